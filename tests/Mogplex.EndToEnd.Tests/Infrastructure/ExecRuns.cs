using System.Net;
using System.Net.Http.Json;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>Exec runs (a server started with <c>--dev</c>) through the API of a published server.</summary>
public static class ExecRuns
{
    /// <summary>Server environment for tests that poll: no request limit in the way.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Unlimited = new Dictionary<string, string?> { ["MOGPLEXD_RateLimits__RequestsPerWindow"] = "1000000" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts an exec run of <paramref name="script"/> on a new working branch; returns its id.</summary>
    public static async Task<string> StartAsync(HttpClient client, string repoId, string script, string branch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Curl.ApiBase + "/runs", UriKind.Relative))
        {
            Content = JsonContent.Create(
                new StartRunRequest { RepoId = repoId, Prompt = script, Harness = "exec", WorkingBranch = branch, CreateBranch = true },
                MogplexJsonContext.Default.StartRunRequest),
        };
        request.Headers.Add("Idempotency-Key", branch);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(MogplexJsonContext.Default.ApiEnvelopeStartedRun, Ct))!.Data.RunId;
    }

    public static async Task<RunDetail> GetAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, Ct))!.Data.Run;

    /// <summary>Every stored event of the run, oldest first (all pages).</summary>
    public static async Task<List<RunEvent>> EventsAsync(HttpClient client, string runId)
    {
        var all = new List<RunEvent>();
        while (true)
        {
            var after = all.Count == 0 ? "" : "&after=" + all[^1].Id;
            var page = (await client.GetFromJsonAsync(
                new Uri($"{Curl.ApiBase}/runs/{runId}/events?limit=200{after}", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEventsPage, Ct))!.Data.Events;
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
        }
    }

    /// <summary>Polls until the run is terminal; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task<RunDetail> WaitTerminalAsync(HttpClient client, string runId, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var run = await GetAsync(client, runId);
            if (RunStatuses.IsTerminal(run.Status))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} still {run.Status} after {limit}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Polls until the run stored an event with this message.</summary>
    public static async Task WaitForEventAsync(HttpClient client, string runId, string message)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await EventsAsync(client, runId)).Any(e => e.Message == message))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{message}' event of run {runId} within 60 s");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Whether an event is a line of the harness's output (its payload names the stream).</summary>
    public static bool IsOutput(RunEvent e) =>
        e.Payload is { ValueKind: System.Text.Json.JsonValueKind.Object } payload && payload.TryGetProperty("stream", out _);

    public static async Task<string> StartRunAsync(HttpClient client, string repoId, string script, string key)
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

    public static async Task<RunDetail> GetRunAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, Ct))!.Data.Run;

    public static async Task<IReadOnlyList<RunEvent>> WaitForEventsAsync(HttpClient client, string runId, string message)
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

    public static async Task<RunDetail> WaitForStatusAsync(HttpClient client, string runId, Func<string, bool> done)
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
