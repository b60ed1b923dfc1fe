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

        var first = await mogplexd.StartServerAsync(null, "--dev");
        string runId;
        IReadOnlyList<RunEvent> before;
        using (var client = first.CreateClient(token))
        {
            runId = await StartRunAsync(client, repoId, "echo working\nsleep 300", "crash-1");
            before = await WaitForEventAsync(client, runId, "working");
        }

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);

        var second = await mogplexd.StartServerAsync(null, "--dev");
        using var again = second.CreateClient(token);
        var run = await WaitForStatusAsync(again, runId, s => RunStatuses.IsTerminal(s));
        Assert.Equal(RunStatuses.Failed, run.Status);
        Assert.Equal("interrupted: mogplexd stopped", run.Error);
        var after = await EventsAsync(again, runId);
        Assert.Equal(before.Select(e => (e.Id, e.Seq, e.Type, e.Message)), after.Take(before.Count).Select(e => (e.Id, e.Seq, e.Type, e.Message)));
        Assert.Equal(RunEventTypes.Failed, after[^1].Type);

        var next = await StartRunAsync(again, repoId, "echo fine", "crash-2");
        Assert.Equal(RunStatuses.Success, (await WaitForStatusAsync(again, next, s => RunStatuses.IsTerminal(s))).Status);
        Assert.Equal(0, await second.StopAsync());
    }

    [Fact]
    public async Task Sigterm_DuringStreamingRun_RunFailedInterruptedAndExitZero()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "stop");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(null, "--dev");
        string runId;
        using (var client = server.CreateClient(token))
        {
            runId = await StartRunAsync(client, repoId, "echo working\nsleep 300", "stop-1");
            await WaitForEventAsync(client, runId, "working");
        }

        Assert.Equal(0, await server.StopAsync());

        var restarted = await mogplexd.StartServerAsync(new Dictionary<string, string?> { ["MOGPLEXD_Runs__Workers"] = "false" });
        using var reader = restarted.CreateClient(token);
        var run = await GetRunAsync(reader, runId);
        Assert.Equal((RunStatuses.Failed, "interrupted: mogplexd stopped"), (run.Status, run.Error));
        Assert.Equal(0, await restarted.StopAsync());
    }

    private static async Task<string> StartRunAsync(HttpClient client, string repoId, string script, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Curl.ApiBase + "/runs", UriKind.Relative))
        {
            Content = JsonContent.Create(new StartRunRequest { RepoId = repoId, Prompt = script, Harness = "exec" }, MogplexJsonContext.Default.StartRunRequest),
        };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(MogplexJsonContext.Default.ApiEnvelopeStartedRun, Ct))!.Data.RunId;
    }

    private static async Task<RunDetail> GetRunAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, Ct))!.Data.Run;

    private static async Task<IReadOnlyList<RunEvent>> EventsAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/events?limit=200", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEventsPage, Ct))!.Data.Events;

    private static async Task<IReadOnlyList<RunEvent>> WaitForEventAsync(HttpClient client, string runId, string message)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var events = await EventsAsync(client, runId);
            if (events.Any(e => e.Message == message))
            {
                return events;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no '{message}' event within 30 s");
            await Task.Delay(100, Ct);
        }
    }

    private static async Task<RunDetail> WaitForStatusAsync(HttpClient client, string runId, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var run = await GetRunAsync(client, runId);
            if (done(run.Status))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} still {run.Status} after 30 s");
            await Task.Delay(100, Ct);
        }
    }
}
