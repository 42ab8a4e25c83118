"""An interpolated modified Kneser-Ney 3-gram (Chen and Goodman 1998) on a causal data folder's tokens: the n-gram
baseline of docs/causal-lm.md.

usage: kneser_ney.py DATA_FOLDER [BLOCK_SIZE]

Estimates the model on train.bin (the tokens SharpLM trains on) and scores the tokens that SharpLM's evaluation
scores: validation.bin cut into windows of BLOCK_SIZE (default 128) tokens, every token of a window but the first,
each from at most the two tokens before it in the same window. Discounts D1, D2, D3+ per order come from the
count-of-counts; the lower orders use continuation counts; the unigram is interpolated with the uniform
distribution over the vocabulary, so a token never seen in training still gets a probability. Prints one JSON line:
perplexity, bits per byte (bytes from the folder's tokenizer; <|endoftext|> counts 0 bytes, as in SharpLM), and the
counts. Needs only numpy (Debian's python3-numpy).
"""
import json
import math
import os
import sys
from collections import Counter, defaultdict

import numpy as np


def byte_lengths(folder, vocab_size):
    # GPT-2's byte-to-character map, inverted: a token's length in bytes is its length in byte characters.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = set(chr(b) for b in printable) | set(chr(256 + n) for n in range(256 - len(printable)))
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    lengths = [0] * vocab_size
    for token, i in vocab.items():
        if all(c in chars for c in token) and not (token.startswith("<|") and token.endswith("|>")):
            lengths[i] = len(token)
    return lengths


def discounts(counts):
    n = Counter(c for c in counts if c <= 4)
    n1, n2, n3, n4 = (max(n[k], 1) for k in (1, 2, 3, 4))
    y = n1 / (n1 + 2 * n2)
    return 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3


def d_of(count, d):
    return 0.0 if count == 0 else d[0] if count == 1 else d[1] if count == 2 else d[2]


def main():
    folder = sys.argv[1]
    block = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    with open(os.path.join(folder, "causal.json")) as f:
        manifest = json.load(f)
    vocab_size = manifest["vocab_size"]
    train = np.fromfile(os.path.join(folder, "train.bin"), dtype="<i4").tolist()
    valid = np.fromfile(os.path.join(folder, "validation.bin"), dtype="<i4")

    trigrams = Counter(zip(train, train[1:], train[2:]))
    # Continuation counts: in how many distinct contexts a lower-order n-gram follows.
    bigram_continuation = Counter((v, w) for (_, v, w) in trigrams)
    unigram_continuation = Counter(w for (_, w) in bigram_continuation)
    d3 = discounts(trigrams.values())
    d2 = discounts(bigram_continuation.values())
    d1 = discounts(unigram_continuation.values())

    def totals(counts, key):
        total, kinds = defaultdict(int), defaultdict(lambda: [0, 0, 0])
        for gram, c in counts.items():
            k = key(gram)
            total[k] += c
            kinds[k][min(c, 3) - 1] += 1
        return total, kinds

    tri_total, tri_kinds = totals(trigrams, lambda g: g[:2])
    bi_total, bi_kinds = totals(bigram_continuation, lambda g: g[0])
    uni_total = sum(unigram_continuation.values())
    uni_kinds = [0, 0, 0]
    for c in unigram_continuation.values():
        uni_kinds[min(c, 3) - 1] += 1

    def gamma(d, kinds, total):
        return (d[0] * kinds[0] + d[1] * kinds[1] + d[2] * kinds[2]) / total

    def p1(w):
        c = unigram_continuation.get(w, 0)
        return max(c - d_of(c, d1), 0) / uni_total + gamma(d1, uni_kinds, uni_total) / vocab_size

    def p2(v, w):
        total = bi_total.get(v, 0)
        if total == 0:
            return p1(w)
        c = bigram_continuation.get((v, w), 0)
        return max(c - d_of(c, d2), 0) / total + gamma(d2, bi_kinds[v], total) * p1(w)

    def p3(u, v, w):
        total = tri_total.get((u, v), 0)
        if total == 0:
            return p2(v, w)
        c = trigrams.get((u, v, w), 0)
        return max(c - d_of(c, d3), 0) / total + gamma(d3, tri_kinds[(u, v)], total) * p2(v, w)

    # The distributions must sum to one: checked over the whole vocabulary for a few contexts, seen and unseen.
    contexts = [tuple(train[i:i + 2]) for i in (0, len(train) // 3, len(train) // 2)] + [(vocab_size - 1, vocab_size - 2)]
    deviation = max(abs(sum(p3(u, v, w) for w in range(vocab_size)) - 1) for (u, v) in contexts)
    assert deviation < 1e-6, f"a 3-gram distribution sums to 1 {deviation:+.2e}"

    lengths = byte_lengths(folder, vocab_size)
    nats, predicted, nbytes = 0.0, 0, 0
    windows = len(valid) // block
    for start in range(0, windows * block, block):
        window = valid[start:start + block].tolist()
        for t in range(1, block):
            w = window[t]
            p = p2(window[0], w) if t == 1 else p3(window[t - 2], window[t - 1], w)
            nats -= math.log(p)
            predicted += 1
            nbytes += lengths[w]
    print(json.dumps({
        "model": "interpolated modified Kneser-Ney 3-gram", "train_tokens": len(train), "distinct_trigrams": len(trigrams),
        "windows": windows, "block_size": block, "predicted_tokens": predicted,
        "loss": nats / predicted, "perplexity": math.exp(nats / predicted), "bits_per_byte": nats / math.log(2) / max(nbytes, 1),
        "discounts": {"trigram": d3, "bigram": d2, "unigram": d1}, "largest_normalisation_error": deviation,
    }))


if __name__ == "__main__":
    main()
