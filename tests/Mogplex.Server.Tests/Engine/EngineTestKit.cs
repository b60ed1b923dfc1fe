using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>Shared steps of engine tests: waiting for the end of a run, reading all its events, finding processes.</summary>
internal static class EngineTestKit
{
    public static async Task<JsonElement> WaitTerminalAsync(HttpClient client, string runId, TimeSpan? timeout = null) =>
        await Waits.UntilAsync(
            async () => (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run"),
            r => r.GetProperty("status").GetString() is "success" or "failed" or "cancelled",
            timeout ?? TimeSpan.FromSeconds(60),
            $"run {runId} to end");

    public static async Task<List<JsonElement>> AllEventsAsync(HttpClient client, string runId)
    {
        var all = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            var page = await ApiClient.GetAsync(client, $"/runs/{runId}/events?limit=200" + (after is null ? "" : $"&after={after}"));
            var events = page.Data.GetProperty("events").EnumerateArray().ToList();
            if (events.Count == 0)
            {
                return all;
            }

            all.AddRange(events);
            after = events[^1].GetProperty("id").GetString();
        }
    }
}
