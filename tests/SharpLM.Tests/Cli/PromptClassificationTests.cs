using System.Text.Json;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.FillMask;

namespace SharpLM.Tests.Cli;

/// <summary>Classification through a masked LM's head and a cloze prompt (PET): zero-shot scores, prompt fine-tuning, and the verbs.</summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class PromptClassificationTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static double Metric(string json, string name) => JsonDocument.Parse(json).RootElement.GetProperty(name).GetDouble();

    [Fact]
    public void Zero_shot_label_scores_are_the_fill_mask_probabilities_of_the_verbalizer_words_renormalised()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("mlm"), maxPositions: 128);
        var prompt = ClozePrompt.Parse("{text} It was [MASK].", "good=great|good,bad=terrible");
        string text = "The economy grew and more people found work this year";
        using var classifier = PromptClassifier.Load(model, prompt);
        var scores = classifier.PredictAll([new ClassificationExample(text, null, null)])[0].ToDictionary(p => p.Label, p => p.Score);

        using var filler = MaskFiller.Load(model);
        var all = filler.Fill([$"{text} It was [MASK]."], topK: filler.Config.VocabSize)[0][0].Predictions.ToDictionary(p => p.TokenStr, p => p.Score);
        double good = all["great"] + all["good"], bad = all["terrible"];
        Assert.Equal(good / (good + bad), scores["good"], 5);
        Assert.Equal(bad / (good + bad), scores["bad"], 5);
    }

    [Fact]
    public void A_long_text_is_cut_so_that_the_template_and_its_mask_survive()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("mlm"), maxPositions: 128);
        using var classifier = PromptClassifier.Load(model, ClozePrompt.Parse("Topic: {text} Answer: [MASK].", "a=yes,b=no"), maxLength: 24);
        var encoded = classifier.Encode(new ClassificationExample(string.Join(' ', Enumerable.Repeat("congress", 100)), null, null));
        Assert.Equal(24, encoded.Length);
        Assert.Equal(["[CLS]", "topic", ":"], encoded.Tokens[..3]);
        Assert.Equal(["answer", ":", "[MASK]", ".", "[SEP]"], encoded.Tokens[^5..]);
        var pair = classifier.Encode(new ClassificationExample("short one", "unused second text", null));
        Assert.DoesNotContain("unused", pair.Tokens); // the template has no {text_pair}
    }

    [Fact]
    public void Prompt_fine_tuning_learns_a_task_through_the_masked_LM_head_and_the_folder_keeps_its_prompt()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("mlm"), maxPositions: 128), output = _temp.Of("prompted");
        string train = TaskFiles.Language(_temp, "train.csv", 0, 80), dev = TaskFiles.Language(_temp, "dev.csv", 500, 20);
        string[] prompt = ["--prompt", "{text} This is written in [MASK].", "--verbalizer", "english=english,chinese=chinese"];
        var run = CliRun.Of(["finetune", "classify", "--model", model, "--train", train, "--dev", dev, "--output", output,
            "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "5", .. prompt]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("classify through the prompt '{text} This is written in [MASK].'", run.Error);
        Assert.True(Metric(run.Output, "accuracy") >= 0.9, run.Output + run.Error); // chance is 0.5

        // A masked LM with its prompt, not a classifier head: Hugging Face loads it as BertForPreTraining.
        Assert.Equal("BertForPreTraining", BertConfig.Load(output).Architecture);
        Assert.Equal("{text} This is written in [MASK].", ClozePrompt.Load(output)!.Template);
        var predicted = CliRun.Of("predict", "classify", "--model", output, "白日依山盡，黃河入海流。");
        Assert.True(predicted.ExitCode == 0, predicted.Error);
        Assert.Equal("chinese", JsonDocument.Parse(predicted.Output).RootElement.GetProperty("label").GetString());
        var evaluated = CliRun.Of("evaluate", "classify", "--model", output, "--data", dev);
        Assert.Equal(Metric(run.Output, "accuracy"), Metric(evaluated.Output, "accuracy"));

        // The pretrained model itself, zero-shot through the same prompt on the command line.
        var zeroShot = CliRun.Of(["evaluate", "classify", "--model", model, "--data", dev, .. prompt]);
        Assert.True(zeroShot.ExitCode == 0, zeroShot.Error);
        Assert.Equal(40, (int)Metric(zeroShot.Output, "examples"));
    }

    [Fact]
    public void Bad_prompts_and_verbalizers_fail_with_one_clear_line()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("mlm"), maxPositions: 128);
        CliRun Predict(string template, string verbalizer) => CliRun.Of("predict", "classify", "--model", model, "--prompt", template, "--verbalizer", verbalizer, "some text");
        Predict("It was [MASK].", "a=good,b=bad").AssertFailsNaming("--prompt", "{text} slot");
        Predict("{text} [MASK] or [MASK]", "a=good,b=bad").AssertFailsNaming("--prompt", "exactly one [MASK] (it has 2)");
        Predict("{text} It was [MASK].", "a=good").AssertFailsNaming("--verbalizer", "at least two labels");
        Predict("{text} It was [MASK].", "a=good,bad").AssertFailsNaming("--verbalizer 'bad'", "label=word");
        Predict("{text} It was [MASK].", "a=good,b=unbelievableness").AssertFailsNaming("unbelievableness", "one token");
        CliRun.Of("predict", "classify", "--model", model, "--prompt", "{text} [MASK]", "some text").AssertFailsNaming("--verbalizer", "give both");
        // A pretrained folder with no prompt is not a classifier.
        CliRun.Of("predict", "classify", "--model", model, "some text").AssertFailsNaming(model, "fine-tune a model for this task first");
        string train = TaskFiles.Language(_temp, "train.csv", 0, 4);
        CliRun.Of("finetune", "classify", "--model", model, "--train", train, "--output", _temp.Of("out"), "--prompt", "{text} [MASK]", "--verbalizer", "english=english,french=french")
            .AssertFailsNaming("train.csv", "label 'chinese' has no words in the verbalizer");
    }
}
