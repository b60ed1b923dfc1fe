using System.Diagnostics;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing;
using Mogplex.Testing.Postgres;

namespace Mogplex.EndToEnd.Tests.MultiNode;

/// <summary>
/// A node killed with SIGKILL mid-run (issue #5, test 2): the surviving node reaps the dead node's
/// expired leases, its own runs go on, new runs keep flowing, and nothing runs twice.
/// </summary>
public sealed class NodeLossTests(PostgresTestCluster cluster)
{
    /// <summary>More than one node's Runs:MaxConcurrent (4), so both nodes hold some.</summary>
    private const int SleepingRuns = 6;

    [Fact]
    public async Task KillNine_NodeWithSleepingRuns_ItsRunsFailLostOnSurvivorNewRunsSucceedNoneTwice()
    {
        await using var recorder = new ExecutionRecorder();
        await using var pair = await NodePair.StartAsync(cluster, "loss", leaseSeconds: 3);
        var sleeping = new List<(string Marker, string RunId)>();
        for (var i = 0; i < SleepingRuns; i++)
        {
            var marker = $"sleep{i}";
            var script = $"{recorder.ReportLine(marker)}\necho started\nsleep 300\n";
            sleeping.Add((marker, await pair.StartRunAsync(i % 2 == 0 ? pair.A : pair.B, script, $"loss/{marker}")));
        }

        var executor = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, runId) in sleeping)
        {
            var events = await NodePair.WaitForEventAsync(pair.A, runId, e => e.GetProperty("message").GetString() == "started", "\"started\" line");
            executor[runId] = Assert.Single(NodePair.ExecutingNodeIds(events));
        }

        var victim = pair.Nodes.OrderByDescending(n => executor.Values.Count(n.Owns)).First();
        var survivor = pair.Other(victim);
        var victimId = executor.Values.First(victim.Owns);
        var victimRuns = sleeping.Where(r => victim.Owns(executor[r.RunId])).Select(r => r.RunId).ToList();
        var survivorRuns = sleeping.Where(r => survivor.Owns(executor[r.RunId])).Select(r => r.RunId).ToList();
        Assert.NotEmpty(survivorRuns);
        Assert.NotEmpty(ProcessTable.ProcessesUnder(victim.SandboxesDir));

        await victim.Server.SignalAsync("KILL");
        await victim.Server.WaitForExitAsync(MogplexdProcess.StopTimeout);

        foreach (var runId in victimRuns)
        {
            var run = await NodePair.WaitForStatusAsync(survivor, runId, s => s is not ("pending" or "streaming"), "ended after its node died");
            Assert.Equal(("failed", $"interrupted: node {victimId} lost"), (CliOutput.Str(run, "status"), CliOutput.Str(run, "error")));
            var events = await NodePair.EventsAsync(survivor, runId);
            Assert.Equal(("failed", $"interrupted: node {victimId} lost"), (CliOutput.Str(events[^1], "type"), CliOutput.Str(events[^1], "message")));
        }

        // The survivor's own runs kept their leases (its heartbeats) and are still executing.
        foreach (var runId in survivorRuns)
        {
            Assert.Equal("streaming", CliOutput.Str(await NodePair.GetRunAsync(survivor, runId), "status"));
        }

        // The dead node's harnesses died with it (bubblewrap --die-with-parent).
        await WaitUntilAsync(() => ProcessTable.ProcessesUnder(victim.SandboxesDir).Count == 0, $"processes left under {victim.SandboxesDir}");

        // New runs keep flowing, started through the survivor (the dead node's socket answers nobody).
        var fresh = new List<(string Marker, string RunId)>();
        for (var i = 0; i < 4; i++)
        {
            var marker = $"after{i}";
            fresh.Add((marker, await pair.StartRunAsync(survivor, $"{recorder.ReportLine(marker)}\necho after {i}\n", $"loss/{marker}")));
        }

        foreach (var (_, runId) in fresh)
        {
            await NodePair.AssertSucceedsAsync(survivor, runId);
            Assert.True(survivor.Owns(Assert.Single(NodePair.ExecutingNodeIds(await NodePair.EventsAsync(survivor, runId)))));
        }

        foreach (var runId in survivorRuns)
        {
            Assert.Equal($"cancellation requested for run {runId}\nstatus: cancelled\n", await survivor.Cli.RunCheckedAsync("runs", "cancel", runId));
        }

        // Nothing ran twice: one report per run, one claim ("Preparing sandbox") per run.
        var all = sleeping.Concat(fresh).ToList();
        await recorder.WaitUntilAsync(lines => lines.Count >= all.Count, NodePair.Wait, $"{all.Count} execution reports");
        Assert.Equal(all.Select(r => r.Marker).Order(StringComparer.Ordinal), recorder.Lines.Select(l => l.Split(' ')[1]).Order(StringComparer.Ordinal));
        foreach (var (_, runId) in all)
        {
            Assert.Single(NodePair.ExecutingNodeIds(await NodePair.EventsAsync(survivor, runId)));
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < NodePair.Wait, $"{what} after {NodePair.Wait.TotalSeconds:0}s");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }
}
