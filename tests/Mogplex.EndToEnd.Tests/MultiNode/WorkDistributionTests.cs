using System.Text.Json;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.Postgres;

namespace Mogplex.EndToEnd.Tests.MultiNode;

/// <summary>
/// Two nodes on one database share the queue: runs started through either node are claimed by
/// whichever has a free slot, each exactly once (issue #5, test 1).
/// </summary>
public sealed class WorkDistributionTests(PostgresTestCluster cluster)
{
    private const int RunCount = 40;

    [Fact]
    public async Task ExecRuns_StartedHalfThroughEachNode_EachExecutedExactlyOnceAndBothNodesWork()
    {
        await using var recorder = new ExecutionRecorder();
        await using var pair = await NodePair.StartAsync(cluster, "spread", leaseSeconds: 30);
        var runs = new List<(string Marker, string RunId, Node Via)>();
        for (var i = 0; i < RunCount; i++)
        {
            var via = i % 2 == 0 ? pair.A : pair.B;
            var marker = $"m{i:00}";
            var script = $"# spread {marker}\n{recorder.ReportLine(marker)}\necho executed {marker}\necho {marker} > executed-{marker}.txt\n";
            runs.Add((marker, await pair.StartRunAsync(via, script, $"spread/{marker}"), via));
        }

        // Each run is followed through the node it was not started on.
        foreach (var (_, runId, via) in runs)
        {
            await NodePair.AssertSucceedsAsync(pair.Other(via), runId);
        }

        // The witness outside the sandboxes: one report per execution, each naming the folder it ran in.
        await recorder.WaitUntilAsync(lines => lines.Count >= RunCount, NodePair.Wait, $"{RunCount} execution reports");
        var reports = recorder.Lines.Select(l => l.Split(' ', 3)).ToList();
        Assert.All(reports, r => Assert.Equal("run", r[0]));
        Assert.Equal(runs.Select(r => r.Marker).Order(StringComparer.Ordinal), reports.Select(r => r[1]).Order(StringComparer.Ordinal));

        var heads = await BranchHeadsAsync(pair.Source.Path, "refs/heads/spread/");
        var executedOn = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var (marker, runId, via) in runs)
        {
            var events = await NodePair.EventsAsync(via, runId);
            var node = pair.NodeOf(Assert.Single(NodePair.ExecutingNodeIds(events)));
            executedOn[marker] = node;
            Assert.True(node.HoldsPath(reports.Single(r => r[1] == marker)[2]), $"run {runId} was claimed by node {node} but its script ran in {reports.Single(r => r[1] == marker)[2]}");
            Assert.Single(events, e => Message(e) == $"executed {marker}");
            Assert.Equal("finished", CliOutput.Str(events[^1], "type"));

            // Delivered once: the branch holds exactly the run's commit, one commit on top of the base.
            var run = await NodePair.GetRunAsync(pair.Other(via), runId);
            Assert.Equal("success", CliOutput.Str(run, "status"));
            var commit = CliOutput.Str(run, "commit");
            Assert.Equal((commit, pair.Source.Commit, $"# spread {marker}"), heads[$"spread/{marker}"]);
        }

        Assert.Equal(RunCount, heads.Count);
        Assert.True(executedOn.Values.Distinct().Count() == 2, $"all {RunCount} runs ran on node {executedOn.Values.First()}");

        // Node B had no mirror of the repo before (repo add ran through A's data folder): it made one on first use.
        Assert.True(Directory.Exists(pair.MirrorOf(pair.B)));
    }

    /// <summary>Every branch under <paramref name="prefix"/> in the source: (commit, parent, subject).</summary>
    private static async Task<Dictionary<string, (string Commit, string Parent, string Subject)>> BranchHeadsAsync(string gitDir, string prefix)
    {
        var output = await ProcessRunner.RunCheckedAsync("git", ["--git-dir", gitDir, "for-each-ref", "--format=%(refname:lstrip=2)%09%(objectname)%09%(parent)%09%(subject)", prefix]);
        return CliOutput.Lines(output)
            .Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => (f[1], f[2], f[3]), StringComparer.Ordinal);
    }

    private static string Message(JsonElement e) => e.GetProperty("message").GetString() ?? "";
}
