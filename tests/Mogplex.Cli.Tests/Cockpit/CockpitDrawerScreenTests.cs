using Hex1b.Input;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The drawers as a person uses them, in the real app on a headless terminal: golden screens of
/// the cost, diff and palette drawers, the diff's hunk keys and its reason when there is no diff
/// to have, export from the drawer, the palette and the pickers running what they say, one drawer
/// at a time, and drawer keys that are letters only while their drawer is open.
/// Set <c>MOGPLEX_UPDATE_GOLDEN=1</c> to rewrite a golden screen after a deliberate change.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CockpitDrawerScreenTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("mogplex-drawers-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Exports => Path.Combine(_home, "exports");

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task TheCostDrawer_DrawsItsGoldenScreen_EscClosesIt()
    {
        await using var cockpit = await HeadlessCockpit.ReplayAsync("two-turns");

        await cockpit.SubmitAsync("/cost");
        await cockpit.Automator.WaitUntilTextAsync("all runs here");
        await GoldenAsync("two-turns.cost", cockpit.Text);

        await cockpit.Automator.KeyAsync(Hex1bKey.Escape, Ct);
        await cockpit.Automator.WaitUntilTextAsync("Timeline");
        Assert.DoesNotContain("all runs here", cockpit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDiffDrawer_ShowsTheRunsDiff_NJumpsToTheNextHunk_PBack_ArrowsScroll()
    {
        var transport = new ScriptedTransport("two-turns", RunDiffAnswer.From(new Mogplex.Client.Views.RunDiffView(Infrastructure.Api.Parse(DiffJson()))));
        await using var cockpit = await HeadlessCockpit.StartAsync(transport);
        var auto = cockpit.Automator;

        await cockpit.SubmitAsync("/diff");
        await auto.WaitUntilTextAsync("2 files, 3 hunks");
        Assert.Equal(["01a2513a-bbbb-7000-8000-0000000070b0"], transport.DiffsAskedFor);
        await GoldenAsync("two-turns.diff", cockpit.Text);

        await auto.KeyAsync(Hex1bKey.N, Ct);
        await auto.WaitUntilTextAsync("(at 1/3)");
        await auto.KeyAsync(Hex1bKey.N, Ct);
        await auto.WaitUntilTextAsync("(at 2/3)");
        await GoldenAsync("two-turns.diff-hunk-2", cockpit.Text);
        await auto.KeyAsync(Hex1bKey.P, Ct);
        await auto.WaitUntilTextAsync("(at 1/3)");
        await auto.KeyAsync(Hex1bKey.UpArrow, Ct);
        await auto.WaitUntilNoTextAsync("(at 1/3)");
        await auto.PageDownAsync(Ct);
        await auto.WaitUntilTextAsync("(at 2/3)");

        // Closed: n is typing again.
        await auto.KeyAsync(Hex1bKey.Escape, Ct);
        await auto.WaitUntilTextAsync("Timeline");
        await auto.TypeAsync("np", Ct);
        await cockpit.WaitForComposerAsync("np");
        Assert.Single(transport.DiffsAskedFor);
    }

    [Fact]
    public async Task TheDiffDrawer_WithoutAServer_SaysWhyItIsUnavailable()
    {
        await using var cockpit = await HeadlessCockpit.ReplayAsync("two-turns");

        await cockpit.SubmitAsync("/diff");

        await cockpit.Automator.WaitUntilTextAsync("unavailable: the stdio transport has no server to ask");
        Assert.Contains("Diff: run 000070b0", cockpit.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExportDrawer_WritesTheChosenFormat_AndShowsThePath_LettersAreTypingOnceItCloses()
    {
        await using var cockpit = await HeadlessCockpit.ReplayAsync("two-turns", Exports);
        var auto = cockpit.Automator;

        // No drawer: l is a letter in the composer, not an export.
        await auto.TypeAsync("l", Ct);
        await cockpit.WaitForComposerAsync("l");
        Assert.False(Directory.Exists(Exports));
        await auto.BackspaceAsync(Ct);
        await cockpit.WaitForComposerAsync("");

        await cockpit.SubmitAsync("/export");
        await auto.WaitUntilTextAsync("j JSON · l JSONL · m Markdown · Esc close");
        await auto.KeyAsync(Hex1bKey.L, Ct);
        await auto.WaitUntilTextAsync("written: ");

        var file = Assert.Single(Directory.GetFiles(Exports));
        Assert.EndsWith(".jsonl", file, StringComparison.Ordinal);
        Assert.Contains("written:" + file, cockpit.Text.Replace("\n", "", StringComparison.Ordinal).Replace("│", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var (replayed, skipped) = ReducerTests.Replay(await File.ReadAllLinesAsync(file, Ct));
        Assert.Equal((0, 16), (skipped, replayed.Runs[0].Events.Count));

        await cockpit.SubmitAsync("/export md");
        await auto.WaitUntilTextAsync(".md");
        Assert.Equal(2, Directory.GetFiles(Exports).Length);
        await auto.KeyAsync(Hex1bKey.Escape, Ct);
        await auto.WaitUntilTextAsync("Timeline");
        await cockpit.SubmitAsync("/export pdf");
        await auto.WaitUntilTextAsync("unknown export format pdf");
    }

    [Fact]
    public async Task ThePalette_FiltersAsTyped_DrawsItsGoldenScreen_EnterRunsTheAction()
    {
        await using var cockpit = await HeadlessCockpit.ReplayAsync("two-turns");
        var auto = cockpit.Automator;

        await cockpit.SubmitAsync("/help");
        await auto.WaitUntilTextAsync("Palette: type to filter");
        await auto.TypeAsync("xp", Ct);
        await auto.WaitUntilTextAsync("Palette: filter xp");
        await auto.KeyAsync(Hex1bKey.DownArrow, Ct);
        await auto.WaitUntilTextAsync("▶ /export json ");
        await GoldenAsync("two-turns.palette", cockpit.Text);

        await auto.KeyAsync(Hex1bKey.Escape, Ct);
        await auto.WaitUntilTextAsync("Timeline");
        await auto.Ctrl().KeyAsync(Hex1bKey.P, Ct);
        await auto.WaitUntilTextAsync("Palette: type to filter");
        await auto.TypeAsync("cost", Ct);
        await auto.WaitUntilTextAsync("▶ /cost");
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("all runs here");
    }

    [Fact]
    public async Task ThePickers_SetTheHarnessAndTheModel_ThatTheNextRunStartedHereGets()
    {
        var transport = new ScriptedTransport("two-turns");
        await using var cockpit = await HeadlessCockpit.StartAsync(transport);
        var auto = cockpit.Automator;

        await cockpit.SubmitAsync("/harness");
        await auto.WaitUntilTextAsync("Harness for runs started here");
        await auto.TypeAsync("cla", Ct);
        await auto.WaitUntilTextAsync("▶ claude-code");
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("runs started here from now on: harness claude-code");

        await cockpit.SubmitAsync("/model");
        await auto.WaitUntilTextAsync("▶ (the server's default)");
        Assert.Contains("  claude-sonnet-4-5", cockpit.Text, StringComparison.Ordinal);
        await auto.TypeAsync("gpt-9", Ct);
        await auto.WaitUntilTextAsync("▶ gpt-9 (as typed)");
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("runs started here from now on: model gpt-9");

        await cockpit.SubmitAsync("/run fix it");
        await auto.WaitUntilTextAsync("starting a run");
        var start = Assert.IsType<CockpitCommand.StartRun>(Assert.Single(transport.Sent));
        Assert.Equal(("fix it", "claude-code", "gpt-9"), (start.Prompt, start.Harness, start.Model));
    }

    [Fact]
    public async Task OneDrawerAtATime_TheApprovalsKeysOnlyInTheApprovalsDrawer()
    {
        var transport = new ScriptedTransport("interactive-approval");
        await using var cockpit = await HeadlessCockpit.StartAsync(transport);
        var auto = cockpit.Automator;

        await auto.Ctrl().KeyAsync(Hex1bKey.A, Ct);
        await auto.WaitUntilTextAsync("Approvals (1)");
        await auto.Ctrl().KeyAsync(Hex1bKey.P, Ct);
        await auto.WaitUntilTextAsync("Palette: type to filter");
        Assert.DoesNotContain("Approvals (1)", cockpit.Text, StringComparison.Ordinal);

        // In the palette, a is a filter letter, not an approval.
        await auto.TypeAsync("a", Ct);
        await auto.WaitUntilTextAsync("Palette: filter a");
        Assert.Empty(transport.Sent);

        await auto.KeyAsync(Hex1bKey.Escape, Ct);
        await auto.Ctrl().KeyAsync(Hex1bKey.A, Ct);
        await auto.WaitUntilTextAsync("Approvals (1)");
        await auto.KeyAsync(Hex1bKey.A, Ct);
        await auto.WaitUntilTextAsync("approved: run_command: rm -rf build");
        var decide = Assert.IsType<CockpitCommand.Decide>(Assert.Single(transport.Sent));
        Assert.Equal(("ap-1", true), (decide.ApprovalId, decide.Approve));
    }

    [Fact]
    public async Task QInTheRail_DoesNotQuitWhileADrawerIsOpen_SlashRunsGivesTheRailTheKeys_ThenItDoes()
    {
        await using var cockpit = await HeadlessCockpit.ReplayAsync("two-turns");
        var auto = cockpit.Automator;

        // A drawer open, the rail with the keys: q is not quit.
        await cockpit.SubmitAsync("/cost");
        await auto.WaitUntilTextAsync("all runs here");
        await auto.TabAsync(Ct);
        await auto.TypeAsync("q", Ct);
        await auto.WaitAsync(TimeSpan.FromMilliseconds(300), Ct);
        Assert.False(cockpit.Run.IsCompleted);
        Assert.Contains("all runs here", cockpit.Text, StringComparison.Ordinal);

        // Closed, then /runs: the rail has the keys (not the composer), and q leaves.
        await auto.KeyAsync(Hex1bKey.Escape, Ct);
        await auto.WaitUntilTextAsync("Timeline");
        await cockpit.SubmitAsync("/runs");
        await auto.WaitUntilTextAsync("the runs: ↑/↓ select one");
        await auto.TypeAsync("q", Ct);
        await cockpit.Run.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    private static async Task GoldenAsync(string name, string screen)
    {
        var golden = Path.Combine(SourceFixtures(), name + ".screen.txt");
        if (Environment.GetEnvironmentVariable("MOGPLEX_UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(golden, screen, Ct);
        }

        Assert.Equal(await File.ReadAllTextAsync(ReducerTests.Fixture(name + ".screen.txt"), Ct), screen);
    }

    private static string SourceFixtures([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Fixtures");

    /// <summary>Two files, three hunks, longer than the drawer.</summary>
    private static string DiffJson()
    {
        var patch = new System.Text.StringBuilder();
        patch.Append("diff --git a/hello.txt b/hello.txt\nindex 0000000..1111111 100644\n--- a/hello.txt\n+++ b/hello.txt\n@@ -1,3 +1,4 @@\n hello\n-world\n+there\n+friend\n");
        patch.Append("@@ -20,8 +21,8 @@\n");
        for (var i = 0; i < 8; i++)
        {
            patch.Append(System.Globalization.CultureInfo.InvariantCulture, $" line {20 + i}\n");
        }

        patch.Append("diff --git a/notes.md b/notes.md\nnew file mode 100644\n--- /dev/null\n+++ b/notes.md\n@@ -0,0 +1,12 @@\n");
        for (var i = 1; i <= 12; i++)
        {
            patch.Append(System.Globalization.CultureInfo.InvariantCulture, $"+note {i}\n");
        }

        return $$"""{"base":"4b825dc642cb6eb9a060e54bf8d69288fbee4904","head":"9daeafb9864cf43055ae93beb0afd6c7d144bfa4","files":[{"path":"hello.txt","status":"modified","additions":2,"deletions":1},{"path":"notes.md","status":"added","additions":12,"deletions":0}],"patch":"{{System.Text.Json.JsonEncodedText.Encode(patch.ToString()).Value}}","truncated":false}""";
    }
}
