using System.Net;
using System.Net.Http.Json;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>Starting exec runs on a published server and waiting for them, for the engine tests.</summary>
internal static class ExecRuns
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static async Task<string> StartRunAsync(HttpClient client, string repoId, string script, string key)
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

    internal static async Task<RunDetail> GetRunAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, Ct))!.Data.Run;

    internal static async Task<IReadOnlyList<RunEvent>> EventsAsync(HttpClient client, string runId) =>
        (await client.GetFromJsonAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/events?limit=200", UriKind.Relative), MogplexJsonContext.Default.ApiEnvelopeRunEventsPage, Ct))!.Data.Events;

    internal static async Task<IReadOnlyList<RunEvent>> WaitForEventAsync(HttpClient client, string runId, string message)
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

    internal static async Task<RunDetail> WaitForStatusAsync(HttpClient client, string runId, Func<string, bool> done)
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
