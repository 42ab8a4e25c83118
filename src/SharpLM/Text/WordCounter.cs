using System.Threading.Channels;

namespace SharpLM.Text;

/// <summary>
/// Counts the pre-tokenised words of a stream of lines on several threads. Memory holds the word
/// counts and a few blocks of lines in flight, whatever the length of the stream.
/// </summary>
public sealed class WordCounter
{
    private const int BlockCharacters = 1 << 18;
    private readonly BertPreTokenizer? _preTokenizer;
    private readonly int _threads;

    /// <summary>Creates a counter that splits words with <paramref name="preTokenizer"/> on <paramref name="threads"/> threads (default: one per core).</summary>
    public WordCounter(BertPreTokenizer preTokenizer, int? threads = null)
    {
        _preTokenizer = preTokenizer;
        _threads = Math.Max(1, threads ?? Environment.ProcessorCount);
    }

    private WordCounter(int? threads) => _threads = Math.Max(1, threads ?? Environment.ProcessorCount);

    /// <summary>A counter of GPT-2's pieces (<see cref="ByteLevelPreTokenizer"/>), counted as the text they cover.</summary>
    public static WordCounter ByteLevel(int? threads = null) => new(threads);

    /// <summary>Characters read so far (for progress reports); updated as blocks are handed out.</summary>
    public long CharactersRead => Interlocked.Read(ref _charactersRead);
    private long _charactersRead;

    /// <summary>Counts every word of <paramref name="lines"/>. The lines are read on the calling thread.</summary>
    public Dictionary<string, long> Count(IEnumerable<string> lines, CancellationToken cancellation = default)
    {
        var channel = Channel.CreateBounded<List<string>>(new BoundedChannelOptions(_threads * 2) { SingleWriter = true });
        var workers = Enumerable.Range(0, _threads)
            .Select(_ => Task.Run(() => CountBlocks(channel.Reader, cancellation), cancellation))
            .ToArray();
        try
        {
            var block = new List<string>();
            int blockChars = 0;
            foreach (string line in lines)
            {
                block.Add(line);
                blockChars += line.Length + 1;
                if (blockChars >= BlockCharacters)
                {
                    Interlocked.Add(ref _charactersRead, blockChars);
                    WriteBlocking(channel.Writer, block, cancellation);
                    block = new List<string>();
                    blockChars = 0;
                }
            }
            Interlocked.Add(ref _charactersRead, blockChars);
            if (block.Count > 0) WriteBlocking(channel.Writer, block, cancellation);
        }
        finally
        {
            channel.Writer.Complete();
        }
        Task.WaitAll(workers, cancellation);

        // Merge the per-thread tables into the largest one.
        var tables = workers.Select(w => w.Result).OrderByDescending(t => t.Count).ToList();
        var total = tables[0];
        foreach (var table in tables.Skip(1))
        {
            foreach (var (word, count) in table)
                total[word] = total.GetValueOrDefault(word) + count;
            table.Clear();
        }
        return total;
    }

    private static void WriteBlocking(ChannelWriter<List<string>> writer, List<string> block, CancellationToken cancellation)
    {
        if (!writer.TryWrite(block)) writer.WriteAsync(block, cancellation).AsTask().GetAwaiter().GetResult();
    }

    private Dictionary<string, long> CountBlocks(ChannelReader<List<string>> reader, CancellationToken cancellation)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        var words = new PreTokenizedText();
        var pieces = new List<(int Start, int Length)>();
        while (reader.WaitToReadAsync(cancellation).AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var block))
            {
                foreach (string line in block)
                {
                    if (_preTokenizer is null)
                    {
                        pieces.Clear();
                        ByteLevelPreTokenizer.Split(line, pieces);
                        foreach (var (start, length) in pieces) Increment(lookup, line.AsSpan(start, length));
                        continue;
                    }
                    _preTokenizer.Split(line, words);
                    for (int w = 0; w < words.Count; w++) Increment(lookup, words.Word(w));
                }
            }
        }
        return counts;
    }

    // Counts one more of a word, allocating its string only the first time it is seen.
    private static void Increment(Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup, ReadOnlySpan<char> word)
    {
        if (lookup.TryGetValue(word, out long count)) lookup[word] = count + 1;
        else lookup[word] = 1;
    }
}
