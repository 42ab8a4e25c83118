#!/usr/bin/env bash
# Writes the Chinese tone-tagging data of docs/finetuning.md from chinese-poetry 2.0.1 (npm, MIT): Tang
# poems (quantangshi) and, matched by poem id, their per-character tone patterns (strains). Each poem is
# one CoNLL sentence, one character per line, tagged 平 (level tone), 仄 (oblique tone), 中 (either:
# the pattern marks it ○) or O (punctuation). Poems whose pattern does not line up character by
# character, or that mark a character unknown (？), are skipped. The poems come from files 20000 on,
# past the 6 MB that data/make-chinese-corpus.sh takes for pretraining. Not used by the build or tests.
#   usage: data/make-tone-tagging.sh OUTPUT_FOLDER [TRAIN_POEMS] [DEV_POEMS] [TEST_POEMS]
set -euo pipefail
out="$1"; train="${2:-4000}"; dev="${3:-500}"; test="${4:-500}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent chinese-poetry@2.0.1 >/dev/null && mkdir poetry && tar xzf chinese-poetry-2.0.1.tgz -C poetry)
node - "$work/poetry/package/dist" "$out" "$train" "$dev" "$test" <<'JS'
const fs = require('fs'), path = require('path');
const [dist, out, ...counts] = process.argv.slice(2);
const [trainCount, devCount, testCount] = counts.map(Number);
const tagOf = { '平': '平', '仄': '仄', '○': '中' };
const files = fs.readdirSync(path.join(dist, 'quantangshi')).filter(f => /^poet\.tang\.\d+\.json$/.test(f))
  .map(f => Number(f.split('.')[2])).filter(n => n >= 20000).sort((a, b) => a - b);
const poems = [];
for (const n of files) {
  const strainsFile = path.join(dist, 'strains', 'json', `poet.tang.${n}.json`);
  if (!fs.existsSync(strainsFile)) continue;
  const strains = new Map(JSON.parse(fs.readFileSync(strainsFile, 'utf8')).map(s => [s.id, s.strains]));
  for (const poem of JSON.parse(fs.readFileSync(path.join(dist, 'quantangshi', `poet.tang.${n}.json`), 'utf8'))) {
    const pattern = strains.get(poem.id);
    if (!pattern || pattern.length !== poem.paragraphs.length) continue;
    const lines = [];
    let ok = true;
    poem.paragraphs.forEach((text, i) => {
      const chars = [...text], marks = [...pattern[i]];
      if (chars.length !== marks.length) { ok = false; return; }
      chars.forEach((c, j) => {
        const m = marks[j];
        if (m === '？' || m === '?') ok = false;
        else lines.push(`${c} ${tagOf[m] ?? 'O'}`);
      });
    });
    if (ok && lines.length > 0) poems.push(lines.join('\n'));
    if (poems.length >= trainCount + devCount + testCount) break;
  }
  if (poems.length >= trainCount + devCount + testCount) break;
}
const write = (name, part) => { fs.writeFileSync(path.join(out, name), part.join('\n\n') + '\n'); console.log(`${name}: ${part.length} poems`); };
write('train.conll', poems.slice(0, trainCount));
write('dev.conll', poems.slice(trainCount, trainCount + devCount));
write('test.conll', poems.slice(trainCount + devCount, trainCount + devCount + testCount));
JS
