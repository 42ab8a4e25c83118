"""What the text alone allows on a cloze probe: the top-10 hit rate of a word n-gram model counted from
a corpus, on the same questions `sharplm eval --cloze` asks (docs/pretraining.md, issue 12).

usage: cloze_ngram.py CORPUS[,CORPUS...] CLOZE_TSV VOCAB_TXT

Words are lowercased runs of letters or digits, or single other characters, one line of the corpus at a
time. A question counts when its answer is a whole token of VOCAB_TXT (as the model probe counts it).
Candidates are ranked by the count of (left word, candidate, right word), then by the bigram estimate
P(candidate | left) x P(right | candidate), then by unigram frequency; punctuation and digits are left out
of the ten guesses, which helps the n-gram model against a masked LM that may spend guesses on them.
"""
import collections
import re
import sys

WORD = re.compile(r"[a-z]+|[0-9]+|[^\sa-z0-9]")


def words(text):
    return WORD.findall(text.lower())


def main():
    corpus_files, cloze, vocab = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
    unigrams, bigrams = collections.Counter(), collections.Counter()
    around = collections.defaultdict(collections.Counter)  # (left, right) -> middle words
    for path in corpus_files:
        for line in open(path, encoding="utf-8"):
            w = ["<s>"] + words(line) + ["</s>"]
            unigrams.update(w)
            bigrams.update(zip(w, w[1:]))
            for left, middle, right in zip(w, w[1:], w[2:]):
                around[(left, right)][middle] += 1
    after = collections.defaultdict(collections.Counter)
    for (left, right), n in bigrams.items():
        after[left][right] += n
    total = sum(unigrams.values())
    frequent = unigrams.most_common(2000)
    tokens = {line.rstrip("\n") for line in open(vocab, encoding="utf-8")}
    asked = hits = 0
    for line in open(cloze, encoding="utf-8"):
        sentence, answer = line.rstrip("\n").rsplit("\t", 1)
        answer = answer.strip().lower()
        if answer not in tokens:
            continue
        asked += 1
        w = ["<s>"] + words(sentence.replace("[MASK]", " maskedword ")) + ["</s>"]
        i = w.index("maskedword")
        left, right = w[i - 1], w[i + 1]
        score = collections.Counter()
        for x, n in around[(left, right)].items():
            score[x] += 1e6 * n
        for x, n in after[left].items():
            score[x] += 1e3 * n / unigrams[left] * (bigrams[(x, right)] + 0.01) / unigrams[x]
        for x, n in frequent:
            score[x] += n / total
        guesses = [x for x, _ in score.most_common(40) if x.isalpha()][:10]
        hits += answer in guesses
    print(f"cloze top-10 of the n-gram model: {hits} of {asked} ({hits / asked:.1%})")


if __name__ == "__main__":
    main()
