using System.Text.Json;
using Mogplex.Cli.Cockpit.Export;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The export drawer's files: a JSONL export replays through the stdio transport's reader into the
/// same run, the JSON object holds the run and every event, the Markdown is a readable and inert
/// summary; the folder is 0700 and the file 0600, and a planted link is never written through.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RunExporterTests : IDisposable
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.Parse("2026-12-07T12:34:56Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly string _home = Directory.CreateTempSubdirectory("mogplex-export-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Exports => Path.Combine(_home, "exports");

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Theory]
    [InlineData("interactive-approval")]
    [InlineData("two-turns")]
    public async Task AJsonlExport_ReplaysIntoTheSameRun(string fixture)
    {
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture(fixture + ".jsonl")));

        var path = await RunExporter.WriteAsync(state.Runs[0], "jsonl", Exports, s_now, Ct);
        var (again, skipped) = ReducerTests.Replay(await File.ReadAllLinesAsync(path, Ct));

        Assert.Equal(0, skipped);
        Assert.Equal(Fingerprint(state), Fingerprint(again));
        Assert.Equal(state.Runs[0].Events.Count, again.Runs[0].Events.Count);
    }

    [Fact]
    public async Task AJsonlExport_OfAnEndedRun_EndsWithItsStatus_AndItsEventsAreTheEventsAsTheServerSentThem()
    {
        var fixture = File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")).ToList();
        var (state, _) = ReducerTests.Replay(fixture);

        var lines = RunExporter.Jsonl(state.Runs[0]).TrimEnd('\n').Split('\n');

        Assert.Equal(fixture.Count + 1, lines.Length);
        Assert.Equal("""{"runId":"01a2513a-bbbb-7000-8000-0000000070b0","status":"success"}""", lines[^1]);
        foreach (var (exported, original) in lines[1..^1].Zip(fixture[1..]))
        {
            Assert.True(JsonElement.DeepEquals(Parse(original), Parse(exported)), $"{exported}\nis not\n{original}");
        }
    }

    [Fact]
    public async Task AJsonExport_IsOneObject_TheRunAndAllItsEvents()
    {
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var path = await RunExporter.WriteAsync(state.Runs[0], "json", Exports, s_now, Ct);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(path, Ct));

        var run = doc.RootElement.GetProperty("run");
        Assert.Equal("01a2513a-bbbb-7000-8000-0000000070b0", run.GetProperty("runId").GetString());
        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Equal(4000, run.GetProperty("usage").GetProperty("inputTokens").GetInt64());
        Assert.Equal(16, doc.RootElement.GetProperty("events").GetArrayLength());
        Assert.Equal("f16", doc.RootElement.GetProperty("events")[15].GetProperty("id").GetString());
        Assert.EndsWith("01a2513a-bbbb-7000-8000-0000000070b0-20261207T123456Z.json", path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMarkdownExport_SummarizesTheRun_ItsTurns_AndIsInert()
    {
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var md = await File.ReadAllTextAsync(await RunExporter.WriteAsync(state.Runs[0], "md", Exports, s_now, Ct), Ct);

        Assert.StartsWith("# Run 01a2513a-bbbb-7000-8000-0000000070b0\n", md, StringComparison.Ordinal);
        Assert.Contains("- harness: claude-code (claude-sonnet-4-5)\n", md, StringComparison.Ordinal);
        Assert.Contains("- tokens: 4000 in (3100 cached), 160 out; cost $0.026\n", md, StringComparison.Ordinal);
        Assert.Contains("| 2 | 1000 | 600 | 40 | $0.005 |\n", md, StringComparison.Ordinal);
        Assert.Contains("- **assistant** Goodbye.\n", md, StringComparison.Ordinal);
        Assert.Contains(@"- **user** Now say \x1b]0;owned\x07 goodbye", md, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', md);
        Assert.DoesNotContain('\u0007', md);
    }

    [Fact]
    public async Task TheFolderIs0700_TheFile0600_TwoExportsInOneSecondDoNotCollide()
    {
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var first = await RunExporter.WriteAsync(state.Runs[0], "jsonl", Exports, s_now, Ct);
        var second = await RunExporter.WriteAsync(state.Runs[0], "jsonl", Exports, s_now, Ct);

        Assert.NotEqual(first, second);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Exports));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(second));
    }

    [Fact]
    public async Task AnExistingWiderFolder_IsMade0700()
    {
        Directory.CreateDirectory(Exports);
        File.SetUnixFileMode(Exports, (UnixFileMode)0b111_101_101);
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        await RunExporter.WriteAsync(state.Runs[0], "md", Exports, s_now, Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Exports));
    }

    [Fact]
    public async Task ALinkPlantedAsTheExportsFolder_IsRefused_NothingIsWrittenWhereItPoints()
    {
        var elsewhere = Directory.CreateDirectory(Path.Combine(_home, "elsewhere")).FullName;
        Directory.CreateSymbolicLink(Exports, elsewhere);
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var refused = await Assert.ThrowsAsync<IOException>(() => RunExporter.WriteAsync(state.Runs[0], "json", Exports, s_now, Ct));

        Assert.Contains("symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
    }

    [Fact]
    public async Task ALinkPlantedAtTheFilesName_IsNotWrittenThrough()
    {
        Directory.CreateDirectory(Exports);
        var target = Path.Combine(_home, "target.txt");
        await File.WriteAllTextAsync(target, "untouched", Ct);
        var name = Path.Combine(Exports, "01a2513a-bbbb-7000-8000-0000000070b0-20261207T123456Z.json");
        File.CreateSymbolicLink(name, target);
        var dangling = Path.Combine(Exports, "01a2513a-bbbb-7000-8000-0000000070b0-20261207T123456Z-2.json");
        File.CreateSymbolicLink(dangling, Path.Combine(_home, "nothing-here"));
        var (state, _) = ReducerTests.Replay(File.ReadLines(ReducerTests.Fixture("two-turns.jsonl")));

        var path = await RunExporter.WriteAsync(state.Runs[0], "json", Exports, s_now, Ct);

        Assert.EndsWith("-3.json", path, StringComparison.Ordinal);
        Assert.Equal("untouched", await File.ReadAllTextAsync(target, Ct));
        Assert.False(File.Exists(Path.Combine(_home, "nothing-here")));
        Assert.Null(new FileInfo(path).LinkTarget);
    }

    /// <summary>The line's object without its null fields (the server writes them, a fixture may leave them out).</summary>
    private static JsonElement Parse(string line)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
        foreach (var name in node.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            node.Remove(name);
        }

        using var doc = JsonDocument.Parse(node.ToJsonString());
        return doc.RootElement.Clone();
    }

    /// <summary>Everything the screen shows of the state, and what the cost drawer counts.</summary>
    private static string Fingerprint(CockpitState state)
    {
        var run = state.Runs[0];
        return string.Join('\n',
        [
            $"{run.Id} {run.Status} {run.Awaiting} {run.Harness} {run.Model} {run.Branch} {run.Turns} {run.TurnsSeen} {run.Interactive} {run.Error} {run.LastSeq}",
            $"{run.InputTokens} {run.CachedInputTokens} {run.OutputTokens} {run.CostUsd}",
            .. run.Usage.Select(t => t.ToString()),
            .. run.Timeline.Select(r => r.ToString()),
            .. state.Approvals.Select(a => a.ToString()),
            $"{state.SelectedRunId} {state.NeedsYou}",
        ]);
    }
}
