using SharpLM.Data;
using SharpLM.Text;

namespace SharpLM.Tests.Data;

[Collection(GlobalTorchRandomCollection.Name)]
public class PretrainingBatchesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Length_grouping_serves_every_example_once_per_epoch_with_less_padding_and_the_same_order_for_the_same_seed()
    {
        var (data, _) = TestData.TinyPretrainingRun(_temp);
        var vocabulary = Vocabulary.Load(Path.Combine(data, "vocab.txt"));
        const int batch = 8;
        using var plain = new PretrainingBatches(data, "train", vocabulary, seed: 3);
        using var grouped = new PretrainingBatches(data, "train", vocabulary, seed: 3, lengthGroupedBatchSize: batch);
        using var again = new PretrainingBatches(data, "train", vocabulary, seed: 3, lengthGroupedBatchSize: batch);
        int count = (int)grouped.Count;
        Assert.True(count > 10 * batch, $"{count} examples");

        int[] Order(PretrainingBatches batches, int epoch) => Enumerable.Range(0, count).Select(i => batches.IndexAt((long)epoch * count + i)).ToArray();
        var first = Order(grouped, 0);
        Assert.Equal(Enumerable.Range(0, count), first.Order());
        Assert.Equal(Enumerable.Range(0, count), Order(grouped, 1).Order());
        Assert.NotEqual(first, Order(grouped, 1));
        Assert.Equal(first, Order(again, 0));
        Assert.NotEqual(first, Order(plain, 0));

        double Padding(PretrainingBatches batches)
        {
            long real = 0, cells = 0;
            for (long position = 0; position + batch <= count; position += batch)
            {
                using var b = batches.TrainingBatch(position, batch);
                real += b.Tokens;
                cells += b.InputIds.numel();
            }
            return 1 - (double)real / cells;
        }
        double plainPadding = Padding(plain), groupedPadding = Padding(grouped);
        Assert.True(plainPadding > 0.05, $"plain padding {plainPadding:P1}");
        Assert.True(groupedPadding < plainPadding / 3, $"padding {groupedPadding:P1} grouped vs {plainPadding:P1} plain");
    }
}
