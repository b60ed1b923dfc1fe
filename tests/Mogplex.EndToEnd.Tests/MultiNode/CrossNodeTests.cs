using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing;
using Mogplex.Testing.Postgres;

namespace Mogplex.EndToEnd.Tests.MultiNode;

/// <summary>
/// Requests that reach one node about work on the other (issue #5, tests 3 to 6): cancel, live
/// events, the per-token limit, sandbox stop. Which node claims a run is the queue's choice, so
/// each test finds the executing node first and then talks to the other one.
/// </summary>
public sealed class CrossNodeTests(PostgresTestCluster cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cancel_ThroughNodeNotExecutingTheRun_CancelledAndNoProcessLeftOnExecutingNode()
    {
        await using var pair = await NodePair.StartAsync(cluster, "cancel", leaseSeconds: 30);
        var runId = await pair.StartRunAsync(pair.A, "echo started\nsleep 300", "cancel/one");
        await NodePair.WaitForEventAsync(pair.A, runId, e => e.GetProperty("message").GetString() == "started", "\"started\" line");
        var executing = await pair.ExecutingNodeAsync(pair.A, runId);
        var other = pair.Other(executing);
        Assert.NotEmpty(ProcessTable.ProcessesUnder(executing.SandboxesDir));

        var cancel = await other.Cli.RunCheckedAsync("runs", "cancel", runId);

        Assert.Equal($"cancellation requested for run {runId}\nstatus: cancelled\n", cancel);
        var run = await NodePair.GetRunAsync(executing, runId);
        Assert.Equal(("cancelled", "Cancelled by user"), (CliOutput.Str(run, "status"), CliOutput.Str(run, "error")));
        Assert.Empty(ProcessTable.ProcessesUnder(executing.SandboxesDir));
        var types = (await NodePair.EventsAsync(other, runId)).Select(e => CliOutput.Str(e, "type")).ToList();
        Assert.Equal("cancelled", types[^1]);
        Assert.Single(types, t => t == "cancel_requested");
    }

    [Fact]
    public async Task Follow_ThroughNodeNotExecutingTheRun_SeesEveryEventLiveInOrderWithoutGaps()
    {
        await using var recorder = new ExecutionRecorder();
        await using var pair = await NodePair.StartAsync(cluster, "follow", leaseSeconds: 30);
        var script = $"{recorder.GateLines("follow")}\nfor i in $(seq 1 50); do echo \"line $i\"; done\n";
        var runId = await pair.StartRunAsync(pair.A, script, "follow/one");
        var executing = await pair.ExecutingNodeAsync(pair.A, runId);
        var other = pair.Other(executing);
        await using var cli = other.Cli.Start("runs", "events", runId, "--follow", "--json", "--timeout", "120");
        await using var curl = BackgroundProcess.Start("curl", [.. Curl.StreamArgs(other.Server, Transport.UnixSocket, runId, pair.Token)]);

        // The run is held at the gate: what the followers print before the release arrived live.
        await cli.WaitForOutputAsync("\"message\":\"ready\"", NodePair.Wait);
        await curl.WaitForOutputAsync("\"message\":\"ready\"", NodePair.Wait);
        Assert.Equal("streaming", CliOutput.Str(await NodePair.GetRunAsync(executing, runId), "status"));
        recorder.Release("follow");

        Assert.Equal(0, await cli.WaitForExitAsync(NodePair.Wait));
        Assert.Equal(0, await curl.WaitForExitAsync(NodePair.Wait));
        Assert.Equal("", cli.StdErr);
        var stored = await NodePair.EventsAsync(executing, runId);
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"line {i}"), stored.Select(Message).Where(m => m.StartsWith("line ", StringComparison.Ordinal)));
        Assert.Equal("finished", CliOutput.Str(stored[^1], "type"));

        var printed = CliOutput.JsonLines(cli.StdOut);
        Assert.Equal(stored.Select(Key), printed.SkipLast(1).Select(Key));
        Assert.Equal($$"""{"runId":"{{runId}}","status":"success"}""", printed[^1].GetRawText());
        var streamed = SseEvent.Parse(curl.StdOut);
        Assert.Equal(stored.Select(e => CliOutput.Str(e, "id")), streamed.Where(e => e.Id is not null).Select(e => e.Id));
    }

    [Fact]
    public async Task RequestLimit_DefaultLimitsGetsAlternatingNodes_SixtyAllowedSixtyFirstRateLimited()
    {
        await using var pair = await NodePair.StartAsync(cluster, "limits", leaseSeconds: 30, generousLimits: false);
        using var clientA = pair.A.Server.CreateClient(pair.Token);
        using var clientB = pair.B.Server.CreateClient(pair.Token);
        var path = new Uri(Curl.ApiBase + "/repos", UriKind.Relative);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 60; i++)
        {
            using var response = await (i % 2 == 0 ? clientA : clientB).GetAsync(path, Ct);
            statuses.Add(response.StatusCode);
        }

        using var limited = await clientA.GetAsync(path, Ct);

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 60), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        using var body = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(Ct));
        Assert.False(body.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("RATE_LIMITED", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        var retryAfter = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal("0", Assert.Single(limited.Headers.GetValues("RateLimit-Remaining")));
    }

    [Fact]
    public async Task SandboxStop_ThroughNodeNotHoldingIt_StoppedAndCheckoutRemovedByOwningNode()
    {
        await using var pair = await NodePair.StartAsync(cluster, "sandbox", leaseSeconds: 30);
        var runId = await pair.StartRunAsync(pair.A, "echo in a sandbox", "sandbox/one");
        await NodePair.AssertSucceedsAsync(pair.A, runId);
        var holder = pair.NodeOf(Assert.Single(NodePair.ExecutingNodeIds(await NodePair.EventsAsync(pair.A, runId))));
        var sandboxId = CliOutput.Str(await NodePair.GetRunAsync(pair.A, runId), "sandboxRecordId");
        var checkout = Path.Combine(holder.SandboxesDir, sandboxId);
        Assert.True(Directory.Exists(Path.Combine(checkout, "repo", ".git")), $"no checkout at {checkout}");
        var other = pair.Other(holder);

        var stop = await other.Cli.RunAsync("sandboxes", "stop", sandboxId);

        Assert.True(stop.ExitCode == 0 && stop.StdErr.Length == 0, stop.ToString());
        Assert.Equal($"stopped sandbox {sandboxId}\n", stop.StdOut);
        var listed = CliOutput.JsonLines(await holder.Cli.RunCheckedAsync("sandboxes", "list", "--status", "stopped", "--json"));
        Assert.Equal("stopped", CliOutput.Str(Assert.Single(listed, s => CliOutput.Str(s, "id") == sandboxId), "status"));

        // The holder's maintenance (every 5 s) removes the checkout it no longer owns.
        await WaitUntilGoneAsync(checkout);
    }

    /// <summary>
    /// Two runs on one working branch take turns across nodes: while the first works
    /// (Runs:MaxConcurrent=1, so its node has no free slot), the second stays queued although the
    /// other node is idle and claims a later run of another branch; once the first ended, the
    /// second runs (on either node) from the first's commit and both deliver. A node that lost the
    /// branch's sandbox record to the other node removes its own checkout.
    /// </summary>
    [Fact]
    public async Task SameBranch_RunsTakeTurnsAcrossNodes_BothDeliverInOrder()
    {
        await using var recorder = new ExecutionRecorder();
        await using var pair = await NodePair.StartAsync(cluster, "turns", leaseSeconds: 30, settings: new Dictionary<string, string?> { ["MOGPLEXD_Runs__MaxConcurrent"] = "1" });

        var first = await pair.StartRunAsync(pair.A, $"echo one > one.txt\n{recorder.GateLines("first")}\n", "turns/shared");
        await NodePair.WaitForEventAsync(pair.A, first, e => Message(e) == "ready", "\"ready\" line");
        var firstNode = await pair.ExecutingNodeAsync(pair.A, first);
        var second = await pair.StartRunAsync(pair.B, "echo two > two.txt", "turns/shared");

        var probe = await pair.StartRunAsync(pair.A, "echo probe", "turns/probe");
        await NodePair.AssertSucceedsAsync(pair.A, probe);
        Assert.Same(pair.Other(firstNode), await pair.ExecutingNodeAsync(pair.A, probe));
        Assert.Equal("pending", CliOutput.Str(await NodePair.GetRunAsync(pair.A, second), "status"));
        Assert.Empty(NodePair.ExecutingNodeIds(await NodePair.EventsAsync(pair.A, second)));

        recorder.Release("first");
        await NodePair.AssertSucceedsAsync(pair.A, first);
        await NodePair.AssertSucceedsAsync(pair.A, second);
        var firstCommit = CliOutput.Str(await NodePair.GetRunAsync(pair.A, first), "commit");
        var secondCommit = CliOutput.Str(await NodePair.GetRunAsync(pair.A, second), "commit");
        Assert.Equal($"{secondCommit} {firstCommit}\n", await ProcessRunner.RunCheckedAsync("git", ["--git-dir", pair.Source.Path, "log", "-1", "--format=%H %P", "turns/shared"]));

        var sandboxId = CliOutput.Str(await NodePair.GetRunAsync(pair.A, second), "sandboxRecordId");
        Assert.Equal(sandboxId, CliOutput.Str(await NodePair.GetRunAsync(pair.A, first), "sandboxRecordId"));
        var secondNode = await pair.ExecutingNodeAsync(pair.A, second);
        if (secondNode != firstNode)
        {
            // The record moved: the first node's maintenance removes the checkout it no longer owns.
            await WaitUntilGoneAsync(Path.Combine(firstNode.SandboxesDir, sandboxId));
        }

        Assert.True(Directory.Exists(Path.Combine(secondNode.SandboxesDir, sandboxId, "repo", ".git")));
    }

    private static async Task WaitUntilGoneAsync(string path)
    {
        var deadline = Stopwatch.StartNew();
        while (Directory.Exists(path))
        {
            Assert.True(deadline.Elapsed < NodePair.Wait, $"{path} still there after {NodePair.Wait.TotalSeconds:0}s");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }

    private static string Message(JsonElement e) => e.GetProperty("message").GetString() ?? "";

    private static (string, long, string, string) Key(JsonElement e) =>
        (CliOutput.Str(e, "id"), e.GetProperty("seq").GetInt64(), CliOutput.Str(e, "type"), Message(e));
}
