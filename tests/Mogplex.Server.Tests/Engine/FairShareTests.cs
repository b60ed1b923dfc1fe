using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// <c>Runs:MaxConcurrentPerUser</c> end to end: one user's long runs do not take every worker, so
/// another user's short run is claimed while they wait (real git, real processes, the exec harness).
/// </summary>
public sealed class FairShareTests
{
    [Fact]
    public async Task ExecRuns_SixLongRunsOfOneUser_AnotherUsersRunIsClaimedAndEndsMeanwhile()
    {
        // Four workers and no per-user setting: the default limit is half of them, 2.
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["Runs:MaxConcurrent"] = "4",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "none",
        });
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var (aliceRepo, _) = await GitRepos.LinkAsync(server, user: "alice");
        var (bobRepo, _) = await GitRepos.LinkAsync(server, user: "bob");
        var gate = Path.Combine(Directory.CreateTempSubdirectory("mogplex-gate-").FullName, "open");

        // Alice's runs last until the test opens the gate (none ends on its own); each has a branch
        // of its own, so only the per-user limit keeps them from taking every worker.
        var aliceRuns = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var start = await ApiClient.StartRunAsync(alice, new { repoId = aliceRepo, harness = "exec", prompt = $"while [ ! -e '{gate}' ]; do sleep 0.05; done", createBranch = true, workingBranch = $"w/alice-{i}" });
            aliceRuns.Add(start.Data.GetProperty("runId").GetString()!);
        }

        await Waits.UntilAsync(() => StatusesAsync(alice, aliceRuns), s => s.Count(x => x == "streaming") >= 2, TimeSpan.FromSeconds(60), "two of alice's runs to stream");

        // Without the limit alice's runs hold all four workers and bob's run waits for the gate.
        var bobRun = (await ApiClient.StartRunAsync(bob, new { repoId = bobRepo, harness = "exec", prompt = "sleep 1", createBranch = true, workingBranch = "w/bob" })).Data.GetProperty("runId").GetString()!;
        var bobDone = await EngineTestKit.WaitTerminalAsync(bob, bobRun);
        Assert.True(bobDone.GetProperty("status").GetString() == "success", bobDone.ToString());

        // Alice still has two runs at work and four waiting unclaimed (no lease, no sandbox).
        var statuses = await StatusesAsync(alice, aliceRuns);
        Assert.Equal(2, statuses.Count(s => s == "streaming"));
        Assert.Equal(4, statuses.Count(s => s == "pending"));
        foreach (var id in aliceRuns.Where((_, i) => statuses[i] == "pending"))
        {
            Assert.Null((await server.Store.Runs.GetRunAsync(id, null, ServerFixture.Ct))!.LeaseOwner);
            Assert.DoesNotContain(await EngineTestKit.AllEventsAsync(alice, id), e => e.GetProperty("message").GetString() == "Preparing sandbox");
        }

        // As her runs end, her waiting runs are claimed in turn, and all of them end.
        await File.WriteAllTextAsync(gate, "", ServerFixture.Ct);
        foreach (var id in aliceRuns)
        {
            var run = await EngineTestKit.WaitTerminalAsync(alice, id);
            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        }
    }

    private static async Task<Statuses> StatusesAsync(HttpClient client, IEnumerable<string> runIds)
    {
        var statuses = new Statuses();
        foreach (var id in runIds)
        {
            JsonElement run = (await ApiClient.GetAsync(client, $"/runs/{id}")).Data.GetProperty("run");
            statuses.Add(run.GetProperty("status").GetString()!);
        }

        return statuses;
    }

    /// <summary>Statuses in run order, readable in a failure message.</summary>
    private sealed class Statuses : List<string>
    {
        public override string ToString() => string.Join(", ", this);
    }
}
