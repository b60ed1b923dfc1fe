using System.Net;
using System.Net.Http.Json;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>The published server losing its process mid-run: nothing stays active forever, nothing stored is lost.</summary>
public sealed class EngineRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillNine_DuringStreamingRun_RunFailedInterruptedOnRestartEventsIntactNewRunsWork()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "crash");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();

        var first = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        string runId;
        IReadOnlyList<RunEvent> before;
        using (var client = first.CreateClient(token))
        {
            runId = await ExecRuns.StartRunAsync(client, repoId, "echo working\nsleep 300", "crash-1");
            before = await ExecRuns.WaitForEventsAsync(client, runId, "working");
        }

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);

        var second = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        using var again = second.CreateClient(token);
        var run = await ExecRuns.WaitForStatusAsync(again, runId, s => RunStatuses.IsTerminal(s));
        Assert.Equal(RunStatuses.Failed, run.Status);
        Assert.Equal("interrupted: mogplexd stopped", run.Error);
        var after = await ExecRuns.EventsAsync(again, runId);
        Assert.Equal(before.Select(e => (e.Id, e.Seq, e.Type, e.Message)), after.Take(before.Count).Select(e => (e.Id, e.Seq, e.Type, e.Message)));
        Assert.Equal(RunEventTypes.Failed, after[^1].Type);

        var next = await ExecRuns.StartRunAsync(again, repoId, "echo fine", "crash-2");
        Assert.Equal(RunStatuses.Success, (await ExecRuns.WaitForStatusAsync(again, next, s => RunStatuses.IsTerminal(s))).Status);
        Assert.Equal(0, await second.StopAsync());
    }

    [Fact]
    public async Task Sigterm_DuringStreamingRun_RunFailedInterruptedAndExitZero()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "stop");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        string runId;
        using (var client = server.CreateClient(token))
        {
            runId = await ExecRuns.StartRunAsync(client, repoId, "echo working\nsleep 300", "stop-1");
            await ExecRuns.WaitForEventsAsync(client, runId, "working");
        }

        Assert.Equal(0, await server.StopAsync());

        var restarted = await mogplexd.StartServerAsync(new Dictionary<string, string?>(ExecRuns.Unlimited) { ["MOGPLEXD_Runs__Workers"] = "false" });
        using var reader = restarted.CreateClient(token);
        var run = await ExecRuns.GetRunAsync(reader, runId);
        Assert.Equal((RunStatuses.Failed, "interrupted: mogplexd stopped"), (run.Status, run.Error));
        Assert.Equal(0, await restarted.StopAsync());
    }
}
