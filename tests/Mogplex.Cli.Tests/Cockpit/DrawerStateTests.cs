using System.Net;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;
using Mogplex.Cli.Tests.Infrastructure;
using Mogplex.Client;
using Mogplex.Client.Streaming;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// What the drawers stand on, without a screen: the per-turn usage the reducer keeps (cost), the
/// diff as the drawer reads it (hunks found, hostile text inert, an absent route a reason), and the
/// palette's fuzzy filter.
/// </summary>
public sealed class DrawerStateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Usage_IsKeptPerTurn_AndAddsUpToTheRunsTotals()
    {
        var (state, skipped) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        Assert.Equal(0, skipped);
        var run = Assert.Single(state.Runs);
        Assert.Equal((4000L, 3100L, 160L, 0.026m), (run.InputTokens, run.CachedInputTokens, run.OutputTokens, run.CostUsd));
        Assert.Equal(
            [(1, 3000L, 2500L, 120L, 0.021m), (2, 1000L, 600L, 40L, 0.005m)],
            run.Usage.Select(t => (t.Turn, t.InputTokens, t.CachedInputTokens, t.OutputTokens, t.CostUsd)));
        Assert.Equal(16, run.Events.Count);
    }

    [Fact]
    public void ATurnCompletedsUsage_IsThatTurnsOwn_TheRunsTotalsComeFromTheUsageEvents()
    {
        string Event(long seq, string type, string payload) =>
            $$"""{"id":"u{{seq}}","type":"{{type}}","message":"m","payload":{{payload}},"createdAt":"2026-12-07T10:00:00Z","seq":{{seq}}}""";

        var (state, _) = ReducerTests.Replay(
        [
            Event(1, "usage", """{"input":5,"cachedInput":1,"output":2,"costUsd":null}"""),
            Event(2, "turn_started", """{"turnId":"t1"}"""),
            Event(3, "usage", """{"input":100,"cachedInput":10,"output":7}"""),
            Event(4, "usage", """{"input":100,"cachedInput":10,"output":7}"""),
            Event(5, "turn_completed", """{"turnId":"t1","status":"completed","usage":{"input":150,"cachedInput":20,"output":9,"costUsd":null}}"""),
            Event(6, "usage", """{"input":-3,"output":"lots"}"""),
        ]);

        var run = Assert.Single(state.Runs);
        Assert.Equal((205L, 21L, 16L, 0m), (run.InputTokens, run.CachedInputTokens, run.OutputTokens, run.CostUsd));
        Assert.Equal([(0, 5L, 1L, 2L), (1, 150L, 20L, 9L)], run.Usage.Select(t => (t.Turn, t.InputTokens, t.CachedInputTokens, t.OutputTokens)));
    }

    [Fact]
    public void TheCostDrawer_ShowsTheRunItsTurnsAndEveryRun()
    {
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var lines = DrawerText.CostLines(state);

        Assert.Contains(lines, l => l.StartsWith("  turn 1 ", StringComparison.Ordinal) && l.Contains("3000 in", StringComparison.Ordinal) && l.Contains("2500 cached", StringComparison.Ordinal) && l.EndsWith("$0.021", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  turn 2 ", StringComparison.Ordinal) && l.Contains("1000 in", StringComparison.Ordinal) && l.Contains("40 out", StringComparison.Ordinal) && l.EndsWith("$0.005", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  together ", StringComparison.Ordinal) && l.EndsWith("$0.026", StringComparison.Ordinal));
    }

    [Fact]
    public void ADiff_IsReadIntoFilesAndHunks_HostileTextInert()
    {
        var json = Api.Parse("""
            {"base":"0123456789abcdef","head":null,"truncated":false,
             "files":[{"path":"a.txt","status":"modified","additions":2,"deletions":1},{"path":"logo.png","status":"added","additions":null,"deletions":null}],
             "patch":"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,3 @@\n-old\n+new \u001b[31mred\u001b[0m\n+\u202eevil\n@@ -10 +11 @@\n\tkept\n"}
            """);

        var diff = RunDiffAnswer.From(new Mogplex.Client.Views.RunDiffView(json));

        Assert.Null(diff.Reason);
        Assert.Equal(2, diff.Files);
        Assert.Equal("base 0123456789 → the sandbox, live: 2 files changed", diff.Lines[0]);
        Assert.Equal("  modified     +2 -1 a.txt", diff.Lines[1]);
        Assert.Equal("  added        binary logo.png", diff.Lines[2]);
        Assert.Equal(2, diff.Hunks.Count);
        Assert.StartsWith("@@ -1,2", diff.Lines[diff.Hunks[0]], StringComparison.Ordinal);
        Assert.StartsWith("@@ -10", diff.Lines[diff.Hunks[1]], StringComparison.Ordinal);
        Assert.Contains(@"+new \x1b[31mred\x1b[0m", diff.Lines);
        Assert.Contains(@"+\u202eevil", diff.Lines);
        Assert.Contains("    kept", diff.Lines);
        Assert.DoesNotContain(diff.Lines, l => l.Any(c => c < ' ' || c == '\u202e'));
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "this server has no diff route")]
    [InlineData(HttpStatusCode.MethodNotAllowed, "this server has no diff route")]
    public async Task ADiff_FromAServerWithoutTheRoute_IsUnavailableWithTheReason(HttpStatusCode status, string reason)
    {
        var handler = new StubHttpHandler();
        handler.Get("/runs/run-1/diff").Text(status, "text/plain", "no such route");

        var answer = await DiffAsync(handler);

        Assert.StartsWith(reason, answer.Reason, StringComparison.Ordinal);
        Assert.Empty(answer.Lines);
        handler.Verify();
    }

    [Fact]
    public async Task ADiff_TheServerRefuses_IsUnavailableWithItsMessage()
    {
        var handler = new StubHttpHandler();
        handler.Get("/runs/run-1/diff").Error(HttpStatusCode.NotFound, "NOT_FOUND", "run not found \u001b[2J");

        var answer = await DiffAsync(handler);

        Assert.Contains(@"run not found \x1b[2J", answer.Reason, StringComparison.Ordinal);
        handler.Verify();
    }

    [Fact]
    public async Task ADiff_FromTheServer_ReachesTheDrawer()
    {
        var handler = new StubHttpHandler();
        handler.Get("/runs/run-1/diff").Ok("""{"base":"abc","head":"def","files":[{"path":"x","status":"added","additions":1,"deletions":0}],"patch":"diff --git a/x b/x\n@@ -0,0 +1 @@\n+x\n","truncated":true}""");

        var answer = await DiffAsync(handler);

        Assert.Null(answer.Reason);
        Assert.Equal("base abc → head def: 1 file changed", answer.Lines[0]);
        Assert.Equal([4], answer.Hunks);
        Assert.StartsWith("… the patch was cut", answer.Lines[^1], StringComparison.Ordinal);
        handler.Verify();
    }

    [Theory]
    [InlineData("diff", "/diff")]
    [InlineData("DIFF", "/diff")]
    [InlineData("xjsonl", "/export jsonl")]
    [InlineData("/ex md", "/export md")]
    [InlineData("cost", "/cost")]
    [InlineData("mdl", "/model")]
    [InlineData("ctrl+o", "key:details")]
    public void ThePalette_FindsAnActionByASubsequence_BestFirst(string typed, string first)
    {
        Assert.Equal(first, Palette.Filter(typed)[0].Command.Trim());
    }

    [Fact]
    public void ThePalette_WithNothingTyped_ListsEveryAction_WithSomethingNoActionHas_NoneAtAll()
    {
        Assert.Equal(Palette.Items, Palette.Filter(""));
        Assert.Empty(Palette.Filter("qqqzzz"));
        Assert.Null(Palette.Score("ba", "abc"));
        Assert.Equal((3, 0), Palette.Score("ac", "abcxa"));
        Assert.Equal((2, 3), Palette.Score("ac", "abcac"));
    }

    private static async Task<RunDiffAnswer> DiffAsync(StubHttpHandler handler)
    {
        var address = ServerAddress.Http(new Uri("http://mogplex.test"));
        using var client = new MogplexClient(HttpClientFactory.Create(address, "test", handler), address, "token");
        await using var transport = new DaemonTransport(client, new FollowOptions(new FakeTimeProvider(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), null, null);
        return await transport.DiffAsync("run-1", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public void ThePaletteAndTheSlashCompletion_KnowTheSameCommands()
    {
        var palette = Palette.Items.Where(i => i.Command.StartsWith('/')).Select(i => i.Command.Trim().Split(' ')[0]).ToHashSet();
        var completion = SlashCommands.All.Select(c => c.Name).Where(n => n is not ("/help" or "/exit")).ToHashSet();

        Assert.Equal(completion.Order(), palette.Order());
    }
}
