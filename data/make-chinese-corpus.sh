#!/usr/bin/env bash
# Writes a larger classical Chinese corpus for the Chinese pretraining run of docs/pretraining.md:
# the first N MB (default 6) of Tang poems of chinese-poetry 2.0.1 (npm, MIT), in Google's format
# (title and verse lines one per line, a blank line between poems). Not used by the build or tests.
#   usage: data/make-chinese-corpus.sh OUTPUT_FILE [MEGABYTES]
set -euo pipefail
out="$1"; megabytes="${2:-6}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent chinese-poetry@2.0.1 >/dev/null && mkdir poetry && tar xzf chinese-poetry-2.0.1.tgz -C poetry)
node - "$work/poetry/package/dist/quantangshi" "$out" "$megabytes" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, out, megabytes] = process.argv.slice(2);
const limit = Number(megabytes) * 1e6;
const files = fs.readdirSync(dir).filter(f => /^poet\.tang\.\d+\.json$/.test(f))
  .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
const docs = []; let bytes = 0;
for (const f of files) {
  for (const poem of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) {
    const doc = [poem.title, ...poem.paragraphs].map(s => s.trim()).filter(s => s.length > 0).join('\n');
    docs.push(doc); bytes += Buffer.byteLength(doc) + 2;
  }
  if (bytes >= limit) break;
}
fs.writeFileSync(out, docs.join('\n\n') + '\n');
console.log(`${docs.length} poems, ${bytes} bytes -> ${out}`);
JS
