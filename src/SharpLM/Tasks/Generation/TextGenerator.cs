using System.Diagnostics;
using System.Text;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tasks.Generation;

/// <summary>
/// Text generation with a causal model folder: the prompt (after the beginning-of-text token, as Llama's tokenizer
/// adds it) runs once through the model, then each new token costs one position thanks to the key/value cache.
/// Tokens are chosen greedily or sampled after Hugging Face's logits processors, in its order: repetition penalty,
/// temperature, top-k, top-p. Text is handed to a callback as soon as its UTF-8 is complete, for streaming.
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly Lock _gate = new();

    private TextGenerator(LlamaForCausalLM model, ByteLevelBpeTokenizer tokenizer)
    {
        Model = model;
        Tokenizer = tokenizer;
    }

    /// <summary>The model.</summary>
    public LlamaForCausalLM Model { get; }

    /// <summary>The tokenizer.</summary>
    public ByteLevelBpeTokenizer Tokenizer { get; }

    /// <summary>Loads a causal model folder (config.json with model_type llama, tokenizer.json, model.safetensors).</summary>
    public static TextGenerator Load(string directory)
    {
        var (model, tokenizer) = LlamaCheckpoint.Load(directory);
        return new TextGenerator(model, tokenizer);
    }

    /// <summary>A generator over a model already in memory (left in eval mode).</summary>
    public static TextGenerator Over(LlamaForCausalLM model, ByteLevelBpeTokenizer tokenizer)
    {
        model.eval();
        return new TextGenerator(model, tokenizer);
    }

    /// <summary>The prompt's ids as the model reads them: the beginning-of-text token, then the text's.</summary>
    public int[] PromptIds(string prompt) => [Model.Config.BosTokenId, .. Tokenizer.Encode(prompt)];

    /// <summary>
    /// Continues <paramref name="prompt"/>. <paramref name="onText"/> hears each piece of generated text as soon as it is
    /// whole UTF-8 (stop texts are held back until they can no longer start one).
    /// </summary>
    /// <exception cref="InvalidInputException">The prompt does not leave room for one new token in the model's positions.</exception>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        int[] promptIds = PromptIds(prompt);
        int limit = Model.Config.MaxPositionEmbeddings;
        if (promptIds.Length >= limit)
            throw new InvalidInputException($"the prompt is {promptIds.Length} tokens; the model reads at most {limit}, so there is no room to generate.");
        lock (_gate)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var cache = Model.NewCache();
            using var random = new Generator((ulong)options.Seed);
            var seen = new HashSet<int>(promptIds);
            var generated = new List<int>();
            var decoder = Encoding.UTF8.GetDecoder();
            var text = new StringBuilder();
            int emitted = 0;
            string reason = "length";
            var stops = options.Stop ?? [];
            var input = tensor(promptIds.Select(i => (long)i).ToArray(), 1, promptIds.Length);
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                using var stepScope = NewDisposeScope();
                if (cache.Length + input.shape[1] > limit) { reason = "context"; break; }
                var logits = Model.Logits(input, cache);
                var last = logits[0, -1].to(float32);
                int next = Choose(last, seen, options, random);
                generated.Add(next);
                seen.Add(next);
                if (next == Model.Config.EosTokenId) { reason = "eos"; break; }
                var bytes = Tokenizer.DecodeBytes([next]);
                var chars = new char[decoder.GetCharCount(bytes, flush: false)];
                decoder.GetChars(bytes, chars, flush: false);
                text.Append(chars);
                // A stop text ends the generation and is not returned; the text is read once per step, and only when there are stop texts.
                string current = stops.Count == 0 ? "" : text.ToString();
                int stopAt = stops.Select(s => current.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
                if (stopAt >= 0)
                {
                    text.Length = stopAt;
                    reason = "stop";
                    break;
                }
                // Hand out what can no longer be the start of a stop text.
                int safe = text.Length - HeldBack(current, stops);
                if (safe > emitted)
                {
                    onText?.Invoke(text.ToString(emitted, safe - emitted));
                    emitted = safe;
                }
                input = tensor(new long[] { next }, 1, 1).MoveToOuterDisposeScope();
            }
            if (reason != "stop")
            {
                var rest = new char[decoder.GetCharCount([], flush: true)];
                decoder.GetChars([], rest, flush: true);
                text.Append(rest);
            }
            if (text.Length > emitted) onText?.Invoke(text.ToString(emitted, text.Length - emitted));
            return new GenerationResult(text.ToString(), generated, reason, promptIds.Length, clock.Elapsed.TotalSeconds);
        }
    }

    // The longest end of the text that is the start of a stop text: it may yet become one, so it waits.
    private static int HeldBack(string current, IReadOnlyList<string> stops)
    {
        int held = 0;
        foreach (string stop in stops)
            for (int n = Math.Min(stop.Length - 1, current.Length); n > held; n--)
                if (current.AsSpan(current.Length - n).SequenceEqual(stop.AsSpan(0, n))) { held = n; break; }
        return held;
    }

    // Hugging Face's processors in its order, then the argmax (temperature 0) or a draw.
    private static int Choose(Tensor logits, HashSet<int> seen, GenerationOptions options, Generator random)
    {
        var scores = logits.clone();
        if (options.RepetitionPenalty != 1 && seen.Count > 0)
        {
            using var index = tensor(seen.Select(i => (long)i).ToArray());
            using var previous = scores.index_select(0, index);
            using var penalised = where(previous.gt(0), previous / options.RepetitionPenalty, previous * options.RepetitionPenalty);
            scores.index_copy_(0, index, penalised);
        }
        if (options.Temperature == 0) return (int)scores.argmax().item<long>();
        scores.div_(options.Temperature);
        if (options.TopK > 0 && options.TopK < scores.shape[0])
        {
            var (top, _) = scores.topk(options.TopK);
            var threshold = top[-1];
            scores.masked_fill_(scores.lt(threshold), double.NegativeInfinity);
        }
        if (options.TopP < 1)
        {
            var (sorted, order) = scores.sort(descending: true);
            var sortedProbabilities = sorted.softmax(0);
            // Drop a token once the tokens before it already reach p; the most likely one always stays.
            var before = sortedProbabilities.cumsum(0) - sortedProbabilities;
            var drop = before.ge(options.TopP);
            var dropped = zeros_like(drop).index_copy_(0, order, drop);
            scores.masked_fill_(dropped, double.NegativeInfinity);
        }
        var probabilities = scores.softmax(0);
        return (int)multinomial(probabilities, 1, generator: random).item<long>();
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
