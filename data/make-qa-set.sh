#!/usr/bin/env bash
# Writes the extractive-QA sets of docs/finetuning.md (SQuAD 2.0 JSON) from the embedded State of the
# Union addresses (data/corpus/sotu-1961-2018.txt, public domain). No QA set is served by the
# registries, so the questions are made from the text, cloze-style: a sentence holding a number (a year,
# an amount, a percentage) becomes a question by putting "what" in place of the number, and the number
# is the answer, found in a context of 16 consecutive sentences (often longer than one 384-token
# window). A quarter of the questions are asked of a context from another address, where they have no
# answer (is_impossible). Addresses are split in order: the last 10 are test, the 10 before them dev,
# the rest train. Not used by the build or tests.
#   usage: data/make-qa-set.sh OUTPUT_FOLDER
set -euo pipefail
out="$1"
mkdir -p "$out"
node - "$(dirname "$0")/corpus/sotu-1961-2018.txt" "$out" <<'JS'
const fs = require('fs'), path = require('path');
const [corpus, out] = process.argv.slice(2);
const speeches = fs.readFileSync(corpus, 'utf8').split(/\n\s*\n/).map(s => s.replace(/\s+/g, ' ').trim()).filter(s => s.length > 0);
let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const number = /\b\d[\d,]*(?:\.\d+)?(?: percent| million| billion| trillion)?\b/;
function questionsOf(speechIndex) {
  const sentences = speeches[speechIndex].match(/[^.!?]+[.!?]+["')\]]*\s*/g) || [];
  const paragraphs = [];
  for (let i = 0; i + 4 <= sentences.length; i += 16) {
    const group = sentences.slice(i, i + 16);
    const context = group.join('').trim();
    const qas = [];
    let offset = 0;
    for (const sentence of group) {
      const start = context.indexOf(sentence.trim(), offset);
      offset = start + sentence.trim().length;
      const match = sentence.trim().match(number);
      if (!match || qas.length >= 4 || sentence.length > 300) continue;
      const s = sentence.trim();
      const question = (s.slice(0, match.index) + 'what' + s.slice(match.index + match[0].length)).replace(/[.!]+["')\]]*$/, '') + '?';
      qas.push({ id: `${speechIndex}-${i}-${qas.length}`, question, answers: [{ text: match[0], answer_start: start + match.index }], is_impossible: false });
    }
    if (qas.length > 0) paragraphs.push({ context, qas });
  }
  return paragraphs;
}
const all = speeches.map((_, i) => questionsOf(i));
function setOf(indices, name) {
  const paragraphs = indices.flatMap(i => all[i]);
  const askable = paragraphs.flatMap(p => p.qas);
  // Impossible questions: one of a quarter of the paragraphs gets a question from another paragraph of the set.
  paragraphs.forEach((p, n) => {
    if (random() >= 0.25 * 3) return;
    const other = askable[Math.floor(random() * askable.length)];
    if (p.qas.some(q => q.id === other.id) || p.context.includes(other.question.replace('what', '').slice(0, 40))) return;
    p.qas.push({ id: `${other.id}-x${n}`, question: other.question, answers: [], is_impossible: true });
  });
  fs.writeFileSync(path.join(out, name), JSON.stringify({ version: 'v2.0', data: [{ title: 'sotu', paragraphs }] }) + '\n');
  const qas = paragraphs.flatMap(p => p.qas);
  console.log(`${name}: ${paragraphs.length} contexts, ${qas.length} questions (${qas.filter(q => q.is_impossible).length} without answer)`);
}
const n = speeches.length;
setOf([...Array(n - 20).keys()], 'train.json');
setOf([...Array(10).keys()].map(i => n - 20 + i), 'dev.json');
setOf([...Array(10).keys()].map(i => n - 10 + i), 'test.json');
JS
