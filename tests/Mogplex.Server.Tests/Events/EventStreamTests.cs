using System.Net;
using System.Text.Json;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Events;

/// <summary>
/// [beyond] the live event stream: <c>GET /runs/{id}/events</c> with <c>Accept: text/event-stream</c>.
/// Events are appended and runs finished straight through the store, as the run engine does.
/// </summary>
public sealed class EventStreamTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(5);

    // Reconnect-heavy tests make many requests; the per-token request limit is not under test.
    private static readonly Dictionary<string, string?> s_roomyRequests = new() { ["RateLimits:RequestsPerWindow"] = "100000" };

    [Fact]
    public async Task Stream_OneEvent_ExactFrameBytesAndContentType()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        var started = Assert.Single(await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct));

        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");

        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-cache", sse.Response.Headers.CacheControl!.ToString());
        var data = $$"""{"id":"{{started.Id}}","type":"started","toolName":null,"message":"Run accepted","payload":null,"createdAt":"2026-11-29T12:00:00.000Z","seq":1}""";
        Assert.Equal($"id: {started.Id}\nevent: started\ndata: {data}\n\n", await sse.ReadRawFrameAsync(s_deadline));

        // A tool event with a payload: still one data line, the same JSON the page answers.
        var appended = await AppendAsync(server, runId, new NewRunEvent("tool_call", "shell", "Running tests", """{"command":"dotnet test","lines":["a\nb"]}"""));
        var frame = await sse.ReadRawFrameAsync(s_deadline);
        var page = await ApiClient.GetAsync(client, $"/runs/{runId}/events?after={started.Id}");
        var pageEvent = Assert.Single(page.Data.GetProperty("events").EnumerateArray());
        Assert.Equal($"id: {appended[0].Id}\nevent: tool_call\ndata: {pageEvent.GetRawText()}\n\n", frame);
        Assert.Equal(
            $$"""{"id":"{{appended[0].Id}}","type":"tool_call","toolName":"shell","message":"Running tests","payload":{"command":"dotnet test","lines":["a\nb"]},"createdAt":"2026-11-29T12:00:00.000Z","seq":2}""",
            pageEvent.GetRawText());
    }

    [Fact]
    public async Task Stream_EventsAppendedAfterConnecting_DeliveredInOrder()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        Assert.Equal("started", (await sse.ReadEventAsync(s_deadline))!.Event);

        // The replay is done and the stream is idle: each append must wake it.
        var expected = new List<RunEventRecord>();
        for (var batch = 0; batch < 5; batch++)
        {
            var added = await AppendAsync(server, runId, [.. Enumerable.Range(0, batch + 1).Select(i => Log($"batch {batch} #{i}"))]);
            expected.AddRange(added);
            foreach (var e in added)
            {
                var frame = await sse.ReadEventAsync(s_deadline);
                Assert.Equal(e.Id, frame!.Id);
                Assert.Equal("log", frame.Event);
                Assert.Equal(e.Message, JsonDocument.Parse(frame.Data!).RootElement.GetProperty("message").GetString());
            }
        }

        Assert.Equal(Enumerable.Range(2, 15).Select(i => (long)i), expected.Select(e => e.Seq));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Stream_ReconnectsAtRandomPointsWhileAppending_EveryEventExactlyOnceInOrder(int seed)
    {
        await using var server = await ServerFixture.StartAsync(s_roomyRequests);
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        var random = new Random(seed);
        const int total = 300;

        // The writer appends in batches of 1..15 and then finishes the run, concurrently with the
        // reader. It never runs more than 30 events ahead of the reader, so appends and reconnects
        // really interleave (instead of the writer finishing before the first reconnect).
        var collectedCount = 0;
        using var readerProgress = new SemaphoreSlim(0);
        var writer = Task.Run(async () =>
        {
            var writes = new Random(seed * 7919);
            var appended = 0;
            await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
            while (appended < total)
            {
                var n = Math.Min(total - appended, writes.Next(1, 16));
                await AppendAsync(server, runId, [.. Enumerable.Range(appended, n).Select(i => Log($"event {i}"))]);
                appended += n;
                var lead = writes.Next(0, 31);
                while (Volatile.Read(ref collectedCount) + lead < appended)
                {
                    Assert.True(await readerProgress.WaitAsync(s_deadline, ServerFixture.Ct), "the reader stopped making progress");
                }
            }

            await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Success, new NewRunEvent("finished", null, "done", null));
        }, ServerFixture.Ct);

        var collected = new List<SseFrame>();
        var reconnects = 0;
        string? lastId = null;
        var ended = false;
        while (!ended)
        {
            var (opened, response) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events", lastId);
            if (opened is null)
            {
                // The connection dropped after the final event, before `end`: the resume is 204.
                using (response)
                {
                    Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                }

                Assert.Equal(RunStatuses.Success, (await server.Store.Runs.GetRunAsync(runId, await server.UserIdAsync(), ServerFixture.Ct))!.Status);
                break;
            }

            await using var sse = opened;
            var take = random.Next(1, 40);
            for (var i = 0; i < take; i++)
            {
                var frame = await sse.ReadEventAsync(s_deadline);
                Assert.NotNull(frame);
                if (frame.Event == "end")
                {
                    Assert.Equal($$"""{"runId":"{{runId}}","status":"success"}""", frame.Data);
                    Assert.Null(frame.Id);
                    await sse.AssertEndedAsync();
                    ended = true;
                    break;
                }

                collected.Add(frame);
                lastId = frame.Id;
                Interlocked.Increment(ref collectedCount);
                readerProgress.Release();
            }

            // Dropping the connection mid-stream (dispose) is the reconnect.
            reconnects++;
        }

        await writer.WaitAsync(s_deadline, ServerFixture.Ct);
        var stored = await server.Store.Events.ListAsync(runId, 0, 1000, ServerFixture.Ct);
        Assert.Equal(total + 3, stored.Count);
        Assert.Equal(stored.Select(e => e.Id), collected.Select(f => f.Id));
        Assert.Equal(stored.Select(e => e.Type), collected.Select(f => f.Event));
        Assert.Equal(
            stored.Select(e => e.Seq),
            collected.Select(f => JsonDocument.Parse(f.Data!).RootElement.GetProperty("seq").GetInt64()));
        Assert.True(reconnects > 5, $"only {reconnects} connections");
    }

    [Fact]
    public async Task Stream_AfterQuery_ResumesLikeLastEventId()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        var added = await AppendAsync(server, runId, Log("one"), Log("two"), Log("three"));

        await using (var byQuery = await SseConnection.OpenAsync(client, $"/runs/{runId}/events?after={added[0].Id}"))
        {
            Assert.Equal(added[1].Id, (await byQuery.ReadEventAsync(s_deadline))!.Id);
            Assert.Equal(added[2].Id, (await byQuery.ReadEventAsync(s_deadline))!.Id);
        }

        await using (var byHeader = await SseConnection.OpenAsync(client, $"/runs/{runId}/events", lastEventId: added[0].Id))
        {
            Assert.Equal(added[1].Id, (await byHeader.ReadEventAsync(s_deadline))!.Id);
            Assert.Equal(added[2].Id, (await byHeader.ReadEventAsync(s_deadline))!.Id);
        }

        // Resuming after the last event: nothing is replayed, the next append is the first frame.
        await using var atEnd = await SseConnection.OpenAsync(client, $"/runs/{runId}/events", lastEventId: added[2].Id);
        var next = await AppendAsync(server, runId, Log("four"));
        Assert.Equal(next[0].Id, (await atEnd.ReadEventAsync(s_deadline))!.Id);
    }

    [Fact]
    public async Task Stream_UnknownResumePoint_Answers400Envelope()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        var (_, otherRun) = await StartRunAsync(server, client);
        var otherEvent = Assert.Single(await server.Store.Events.ListAsync(otherRun, 0, 10, ServerFixture.Ct));

        foreach (var lastId in new[] { Guid.NewGuid().ToString(), "not-an-id", otherEvent.Id, "' OR 1=1 --" })
        {
            var (stream, response) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events", lastId);
            Assert.Null(stream);
            using (response)
            {
                var reply = new RawApi.RawReply(response.StatusCode, await response.Content.ReadAsStringAsync(ServerFixture.Ct), response);
                RawApi.AssertError(reply, HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid after: not an event of this run");
            }
        }

        var (byQuery, queryResponse) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events?after={Guid.NewGuid()}");
        Assert.Null(byQuery);
        using (queryResponse)
        {
            Assert.Equal(HttpStatusCode.BadRequest, queryResponse.StatusCode);
        }
    }

    [Fact]
    public async Task Stream_TerminalRun_EndsWithEndEventAfterAllEventsAndCloses()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        await AppendAsync(server, runId, Log("work"));
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Success, new NewRunEvent("finished", null, "done", null));

        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        string[] types = ["started", "status_changed", "log", "finished"];
        foreach (var type in types)
        {
            Assert.Equal(type, (await sse.ReadEventAsync(s_deadline))!.Event);
        }

        Assert.Equal($$"""event: end{{"\n"}}data: {"runId":"{{runId}}","status":"success"}{{"\n\n"}}""", await sse.ReadRawFrameAsync(s_deadline));
        await sse.AssertEndedAsync();
    }

    [Fact]
    public async Task Stream_ResumeOnFinishedRunWithNothingAfter_204NoBody_FreshStreamStill200WithEnd()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Failed, new NewRunEvent("failed", null, "exit code 1", null));
        var last = (await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct))[^1];

        // What a generic EventSource sends when `end` (unknown to it) closed the stream: Last-Event-ID
        // = the final event. 204 is its "stop reconnecting"; ?after= is the same resume point.
        foreach (var (path, lastId) in new[] { ($"/runs/{runId}/events", last.Id), ($"/runs/{runId}/events?after={last.Id}", (string?)null) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, ApiClient.Base + path);
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Add("X-Request-Id", "resume-1");
            if (lastId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastId);
            }

            using var response = await client.SendAsync(request, ServerFixture.Ct);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync(ServerFixture.Ct));
            Assert.Null(response.Content.Headers.ContentType);
            Assert.Equal("resume-1", response.Headers.GetValues("X-Request-Id").Single());
            Assert.True(response.Headers.Contains("RateLimit-Remaining"));
        }

        // A fresh stream (no resume point) still replays everything and ends with `end`.
        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        foreach (var type in new[] { "started", "status_changed", "failed" })
        {
            Assert.Equal(type, (await sse.ReadEventAsync(s_deadline))!.Event);
        }

        Assert.Equal($$"""{"runId":"{{runId}}","status":"failed"}""", (await sse.ReadEventAsync(s_deadline))!.Data);
        await sse.AssertEndedAsync();

        // The JSON page after the last event is unchanged: 200, no events.
        var page = await ApiClient.GetAsync(client, $"/runs/{runId}/events?after={last.Id}");
        Assert.Equal(0, ApiAssert.Ok(page).GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Stream_ResumeOnFinishedRunWithEventsLeft_200TheRestThenEnd_ThenTheNextResumeIs204()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        var added = await AppendAsync(server, runId, Log("one"), Log("two"));
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Success, new NewRunEvent("finished", null, "done", null));
        var stored = await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct);

        await using (var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events", lastEventId: added[0].Id))
        {
            Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
            Assert.Equal(added[1].Id, (await sse.ReadEventAsync(s_deadline))!.Id);
            Assert.Equal(stored[^1].Id, (await sse.ReadEventAsync(s_deadline))!.Id);
            Assert.Equal("end", (await sse.ReadEventAsync(s_deadline))!.Event);
            await sse.AssertEndedAsync();
        }

        var (again, response) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events", stored[^1].Id);
        Assert.Null(again);
        using (response)
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }

    [Fact]
    public async Task Stream_ResumeAtTheLastEventOfALiveRun_StillTails()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        var last = (await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct))[^1];

        // Nothing after the resume point, but the run goes on: a stream (200) that waits, then the end.
        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events", lastEventId: last.Id);
        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Cancelled, new NewRunEvent("cancelled", null, "cancelled", null));
        Assert.Equal("cancelled", (await sse.ReadEventAsync(s_deadline))!.Event);
        Assert.Equal($$"""{"runId":"{{runId}}","status":"cancelled"}""", (await sse.ReadEventAsync(s_deadline))!.Data);
        await sse.AssertEndedAsync();
    }

    [Fact]
    public async Task Stream_ReplayLongerThanOneServerBatch_EveryEventThenEnd()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        await AppendAsync(server, runId, [.. Enumerable.Range(0, 1_200).Select(i => Log($"line {i}"))]);
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Failed, new NewRunEvent("failed", null, "exit code 1", null));

        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        var stored = await server.Store.Events.ListAsync(runId, 0, 2_000, ServerFixture.Ct);
        Assert.Equal(1_203, stored.Count);
        foreach (var e in stored)
        {
            Assert.Equal(e.Id, (await sse.ReadEventAsync(s_deadline))!.Id);
        }

        Assert.Equal($$"""{"runId":"{{runId}}","status":"failed"}""", (await sse.ReadEventAsync(s_deadline))!.Data);
        await sse.AssertEndedAsync();
    }

    [Fact]
    public async Task Stream_RunFinishesWhileConnected_EndFollowsTheFinalEventAndCloses()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        Assert.Equal("started", (await sse.ReadEventAsync(s_deadline))!.Event);

        var cancelled = await ApiClient.PostAsync(client, $"/runs/{runId}/cancel");
        Assert.Equal("cancelled", cancelled.Data.GetProperty("status").GetString());

        Assert.Equal("cancel_requested", (await sse.ReadEventAsync(s_deadline))!.Event);
        Assert.Equal("cancelled", (await sse.ReadEventAsync(s_deadline))!.Event);
        var end = await sse.ReadEventAsync(s_deadline);
        Assert.Equal("end", end!.Event);
        Assert.Equal($$"""{"runId":"{{runId}}","status":"cancelled"}""", end.Data);
        await sse.AssertEndedAsync();

        // Resuming after the final event of a terminal run: 204, the EventSource "stop reconnecting".
        var events = await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct);
        var (resumed, response) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events", events[^1].Id);
        Assert.Null(resumed);
        using (response)
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }

    [Fact]
    public async Task Stream_Idle_SendsKeepAliveComment()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:SseKeepAliveSeconds"] = "1" });
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await using var sse = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        Assert.Equal("started", (await sse.ReadFrameAsync(s_deadline))!.Event);

        var keepAlive = await sse.ReadFrameAsync(s_deadline);
        Assert.True(keepAlive!.IsComment, keepAlive.Raw);
        Assert.All(keepAlive.Comments, c => Assert.StartsWith(":", c, StringComparison.Ordinal));

        // The stream is still live after a keep-alive.
        var added = await AppendAsync(server, runId, Log("after the keep-alive"));
        Assert.Equal(added[0].Id, (await sse.ReadEventAsync(s_deadline))!.Id);
    }

    [Fact]
    public async Task Stream_ClientDisconnectsMidStream_RunAndLaterReadersUnaffected()
    {
        await using var server = await ServerFixture.StartAsync();
        var (created, runId) = await StartRunAsync(server);
        using var client = created;
        await AppendAsync(server, runId, [.. Enumerable.Range(0, 20).Select(i => Log($"before {i}"))]);

        // Read a little of a long replay, then vanish; another reader leaves while idle.
        var early = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        Assert.Equal("started", (await early.ReadEventAsync(s_deadline))!.Event);
        await early.DisposeAsync();
        var idle = await SseConnection.OpenAsync(client, $"/runs/{runId}/events", (await server.Store.Events.ListAsync(runId, 0, 100, ServerFixture.Ct))[^1].Id);
        await idle.DisposeAsync();

        var run = await ApiClient.GetAsync(client, $"/runs/{runId}");
        Assert.Equal("pending", run.Data.GetProperty("run").GetProperty("status").GetString());
        await TransitionAsync(server, runId, RunStatuses.Pending, RunStatuses.Streaming, new NewRunEvent("status_changed", null, "streaming", null));
        await AppendAsync(server, runId, Log("after"));
        await TransitionAsync(server, runId, RunStatuses.Streaming, RunStatuses.Success, new NewRunEvent("finished", null, "done", null));

        await using var later = await SseConnection.OpenAsync(client, $"/runs/{runId}/events");
        var stored = await server.Store.Events.ListAsync(runId, 0, 100, ServerFixture.Ct);
        Assert.Equal(24, stored.Count);
        foreach (var e in stored)
        {
            Assert.Equal(e.Id, (await later.ReadEventAsync(s_deadline))!.Id);
        }

        Assert.Equal("end", (await later.ReadEventAsync(s_deadline))!.Event);
        await later.AssertEndedAsync();
        run = await ApiClient.GetAsync(client, $"/runs/{runId}");
        Assert.Equal("success", run.Data.GetProperty("run").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Stream_Disabled_AnswersTheJsonPage()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:EventStream"] = "false" });
        var (created, runId) = await StartRunAsync(server);
        using var client = created;

        var (stream, response) = await SseConnection.TryOpenAsync(client, $"/runs/{runId}/events");
        Assert.Null(stream);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ServerFixture.Ct)).RootElement;
            Assert.True(json.GetProperty("ok").GetBoolean());
            Assert.Equal(runId, json.GetProperty("data").GetProperty("run").GetProperty("runId").GetString());
            Assert.Equal("started", Assert.Single(json.GetProperty("data").GetProperty("events").EnumerateArray()).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Stream_AnotherUsersRun_Answers404()
    {
        await using var server = await ServerFixture.StartAsync();
        var (owner, runId) = await StartRunAsync(server);
        owner.Dispose();
        using var intruder = RawApi.CreateClient(server, await server.CreateTokenAsync("mallory"));

        var (stream, response) = await SseConnection.TryOpenAsync(intruder, $"/runs/{runId}/events");
        Assert.Null(stream);
        using (response)
        {
            var reply = new RawApi.RawReply(response.StatusCode, await response.Content.ReadAsStringAsync(ServerFixture.Ct), response);
            RawApi.AssertError(reply, HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
        }

        // Even naming a real event of that run as the resume point reveals nothing.
        var theirs = Assert.Single(await server.Store.Events.ListAsync(runId, 0, 10, ServerFixture.Ct));
        var (resumed, resumedResponse) = await SseConnection.TryOpenAsync(intruder, $"/runs/{runId}/events", theirs.Id);
        Assert.Null(resumed);
        using (resumedResponse)
        {
            Assert.Equal(HttpStatusCode.NotFound, resumedResponse.StatusCode);
        }
    }

    /// <summary>A run of a fresh repo; the client (owned by the test) drops unfinished streams at once.</summary>
    private static async Task<(HttpClient Client, string RunId)> StartRunAsync(ServerFixture server, HttpClient? client = null)
    {
        client ??= RawApi.CreateClient(server, await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(fullName: "acme/" + Guid.NewGuid().ToString("N"));
        var reply = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "stream me" });
        Assert.Equal(HttpStatusCode.Accepted, reply.Status);
        return (client, reply.Data.GetProperty("runId").GetString()!);
    }

    private static NewRunEvent Log(string message) => new(RunEventTypes.Log, null, message, null);

    private static Task<IReadOnlyList<RunEventRecord>> AppendAsync(ServerFixture server, string runId, params NewRunEvent[] events) =>
        server.Store.Events.AppendAsync(runId, events, server.Time.GetUtcNow(), ServerFixture.Ct);

    private static async Task TransitionAsync(ServerFixture server, string runId, string from, string to, NewRunEvent evt)
    {
        var run = await server.Store.Runs.TransitionAsync(
            new RunTransition { RunId = runId, From = [from], To = to, At = server.Time.GetUtcNow(), Events = [evt] },
            ServerFixture.Ct);
        Assert.NotNull(run);
        Assert.Equal(to, run.Status);
    }
}
