using System.Text.Json;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.ApiClients;

/// <summary>
/// The Node <c>eventsource</c> client on a finished run's stream (TypeScript/eventsource-stop.ts):
/// after <c>end</c> it resumes with Last-Event-ID, and the server's answer to that resume must make
/// it stop (204: the standard's "do not reconnect") rather than replay <c>end</c> every 3 s forever.
/// </summary>
public sealed class EventSourceClientTests
{
    /// <summary>The client's default reconnect interval is 3 s: two of them and a margin.</summary>
    private const int WatchMs = 8000;

    [Fact]
    public async Task FinishedRunStream_EndListener_ClientStopsReconnecting()
    {
        await using var api = await ApiClientServer.StartAsync();
        var (path, _) = api.FindOperation("listRunEvents") ?? (Curl.ApiBase + "/runs/{runId}/events", "get");
        var streamed = api.Document["paths"]?[path]?["get"]?["responses"]?["200"]?["content"]?["text/event-stream"];
        Assert.True(streamed is not null, $"the served document has no text/event-stream answer for GET {path}");

        using var http = api.Server.CreateClient(api.Token);
        var runId = await ExecRuns.StartRunAsync(http, api.RepoId, "echo streamed", "eventsource-stop");
        var run = await ExecRuns.WaitTerminalAsync(http, runId);
        Assert.Equal(RunStatuses.Success, run.Status);
        var lastEventId = (await ExecRuns.EventsAsync(http, runId))[^1].Id;

        api.CopyTemplate("TypeScript", "tsconfig.json", "package.json", "eventsource-stop.ts");
        ApiTools.LinkNodeModules(api.WorkDir);
        await ApiTools.RunCheckedAsync("tsc (compiling eventsource-stop.ts)", ApiTools.Bin("tsc"), ["-p", "tsconfig.json", "--pretty", "false"], api.WorkDir);
        var result = await ApiTools.RunCheckedAsync(
            "node eventsource-stop.js",
            "node",
            [Path.Combine("out", "eventsource-stop.js")],
            api.WorkDir,
            new Dictionary<string, string?>
            {
                ["MOGPLEX_EVENTS_URL"] = api.BaseUrl + path.Replace("{runId}", runId, StringComparison.Ordinal),
                ["MOGPLEX_TOKEN"] = api.Token,
                ["MOGPLEX_WATCH_MS"] = WatchMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });

        using var json = JsonDocument.Parse(result.StdOut.Trim().Split('\n')[^1]);
        var seen = json.RootElement;
        var context = $"eventsource saw: {seen}";
        Assert.True(seen.GetProperty("firstEndAtMs").ValueKind == JsonValueKind.Number, $"no `end` event within 30 s; {context}");
        var end = seen.GetProperty("ends")[0].GetString()!;
        Assert.True(end.Contains("\"success\"", StringComparison.Ordinal), context);
        Assert.True(seen.GetProperty("received").EnumerateArray().Select(e => e.GetString()).LastOrDefault() == "finished", context);

        // Every attempt after the first is a resume from the last event; at most one happens (the
        // one the server answers 204), and the client ends CLOSED (2), not CONNECTING (0) or OPEN (1).
        var attempts = seen.GetProperty("attempts").EnumerateArray().ToList();
        var resumes = attempts.Skip(1).ToList();
        Assert.All(resumes, r => Assert.Equal(lastEventId, r.GetProperty("lastEventId").GetString()));
        Assert.True(
            resumes.Count <= 1 && seen.GetProperty("readyStateAtEnd").GetInt32() == 2,
            $"the client connected {attempts.Count} times and is still reconnecting {WatchMs} ms after `end` (statuses: "
            + string.Join(", ", attempts.Select(a => a.GetProperty("status").ToString()))
            + "): a resume of a finished stream must answer 204; " + context);
        Assert.True(resumes.Count == 0 || resumes[0].GetProperty("status").GetInt32() == 204, context);
    }
}
