using System.Text.Json;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Events;
using Mogplex.Server.OpenApi;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary>
/// <c>/runs/{id}/events</c>: a page of events, or [beyond] the live SSE stream. A stream resumed
/// (<c>Last-Event-ID</c> or <c>after</c>) on a terminal run with nothing after the resume point is
/// 204 No Content, which tells any EventSource to stop reconnecting; see docs/decisions.md.
/// </summary>
public static class RunEventsEndpoints
{
    private const int StreamBatch = 500;

    public static RouteGroupBuilder MapRunEvents(this RouteGroupBuilder api)
    {
        api.MapGet("/runs/{runId}/events", GetAsync)
            .Doc("Events", "listRunEvents", "Read a run's events: a JSON page, or [beyond] the live stream",
                "Oldest first, in a total order (`seq`). `Accept: application/json` (or none): a page of at most `limit` events after `after`; page on with the last event's `id` as `after`. "
                + "[beyond] `Accept: text/event-stream`: Server-Sent Events. Each event is `id: <event id>`, `event: <type>`, `data: <event JSON>`; once the run is finished and everything was sent, "
                + "a last `event: end` with `data: {\"runId\", \"status\"}`, then the server closes the stream. A comment keeps the connection alive every 15 s. "
                + "Resume with `Last-Event-ID` (or `after`): no gaps, no duplicates. A resume on a finished run with nothing left to send answers 204, which tells a standard EventSource client to stop reconnecting. "
                + "A client disconnecting never affects the run.")
            // One 200 with both media types (a second Produces for one status would replace the first); OpenApiOperations gives the stream its own schema.
            .Produces<ApiEnvelope<RunEventsPage>>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .WithMetadata(new EventStreamDoc())
            .Query(new ApiQueryDoc("after", "[beyond] Only events after this event id (of this run)."))
            .Limit(100, 200)
            .Header(new ApiHeaderDoc("Last-Event-ID", "[beyond] With `Accept: text/event-stream`: resume after this event id (what EventSource clients send on reconnect); `after` wins when both are given.", Required: false))
            .EmptyResponse(StatusCodes.Status204NoContent, "[beyond] A stream resume on a finished run with nothing after the resume point: the run is over, stop reconnecting (read the run for its final status).")
            .Error(StatusCodes.Status400BadRequest, "`Invalid after: not an event of this run` or `Invalid limit`.")
            .Error(StatusCodes.Status404NotFound, "`Run not found`.");
        return api;
    }

    private static async Task<IResult> GetAsync(string runId, HttpContext http, IMogplexStore store, RunDetails details, IOptionsMonitor<ApiOptions> options, IHostApplicationLifetime lifetime)
    {
        var ct = http.RequestAborted;
        var caller = Caller.From(http);
        var run = QueryValues.TryId(runId, out var id) ? await store.Runs.GetRunAsync(id, caller.UserId, ct) : null;
        if (run is null)
        {
            return ApiResults.NotFound("Run not found");
        }

        var wantsStream = options.CurrentValue.EventStream &&
            http.Request.Headers.Accept.Any(a => a is not null && a.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase));

        // Resume point: ?after=<eventId>, or Last-Event-ID on a stream reconnect.
        var afterId = QueryValues.Get(http.Request, "after");
        if (wantsStream && afterId is null && http.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } lastId)
        {
            afterId = lastId;
        }

        long afterSeq = 0;
        if (afterId is not null)
        {
            var seq = QueryValues.TryId(afterId, out var eventId) ? await store.Events.FindSeqAsync(run.Id, eventId, ct) : null;
            if (seq is null)
            {
                return ApiResults.BadRequest("Invalid after: not an event of this run");
            }

            afterSeq = seq.Value;
        }

        if (wantsStream && afterId is not null && RunStatuses.IsTerminal(run.Status) &&
            (await store.Events.ListAsync(run.Id, afterSeq, 1, ct)).Count == 0)
        {
            // A resume with nothing left on a finished run: 204 is the EventSource "stop
            // reconnecting" (a generic client does not know our end event, and its end may have
            // been lost). The run was read before its events: its final event is already stored.
            return Results.NoContent();
        }

        if (wantsStream)
        {
            await StreamAsync(http, store, run.Id, caller.UserId, afterSeq, TimeSpan.FromSeconds(options.CurrentValue.SseKeepAliveSeconds), lifetime.ApplicationStopping);
            return Results.Empty;
        }

        if (!QueryValues.TryLimit(http.Request, 100, 200, out var limit))
        {
            return ApiResults.BadRequest("Invalid limit");
        }

        var events = await store.Events.ListAsync(run.Id, afterSeq, limit, ct);
        return ApiResults.Ok(new RunEventsPage(await details.ForAsync(run, ct), [.. events.Select(RunEvents.ToContract)]));
    }

    /// <summary>
    /// Replays after the resume point, then tails. Each loop subscribes to the run's change signal
    /// before reading, so an append committed between the read and the wait still wakes it. The
    /// status is read before the events: the terminal status and its final event commit together,
    /// so "terminal and nothing left to send" really is the end. The stream also ends when the
    /// server stops: otherwise shutdown would wait for every tailing client until its timeout;
    /// the client resumes elsewhere (or later) with <c>Last-Event-ID</c>.
    /// </summary>
    private static async Task StreamAsync(HttpContext http, IMogplexStore store, string runId, string userId, long afterSeq, TimeSpan keepAlive, CancellationToken stopping)
    {
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var ct = streamCts.Token;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.FlushAsync(ct);

        try
        {
            while (!ct.IsCancellationRequested)
            {
                var changed = store.Changes.NextChangeAsync(runId);
                var run = await store.Runs.GetRunAsync(runId, userId, ct);
                var events = await store.Events.ListAsync(runId, afterSeq, StreamBatch, ct);
                foreach (var e in events)
                {
                    await WriteEventAsync(response, e, ct);
                    afterSeq = e.Seq;
                }

                if (events.Count > 0)
                {
                    await response.Body.FlushAsync(ct);
                    continue;
                }

                if (run is null || RunStatuses.IsTerminal(run.Status))
                {
                    var end = JsonSerializer.Serialize(new StreamEnd(runId, run?.Status ?? RunStatuses.Failed), MogplexJsonContext.Default.StreamEnd);
                    await response.WriteAsync($"event: end\ndata: {end}\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    return;
                }

                var woke = await Task.WhenAny(changed, Task.Delay(keepAlive, ct));
                if (woke != changed)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client disconnected; the run is unaffected.
        }
    }

    private static Task WriteEventAsync(HttpResponse response, RunEventRecord e, CancellationToken ct)
    {
        // Event types and ids never contain newlines; the JSON data is a single line.
        var data = JsonSerializer.Serialize(RunEvents.ToContract(e), MogplexJsonContext.Default.RunEvent);
        return response.WriteAsync($"id: {e.Id}\nevent: {e.Type}\ndata: {data}\n\n", ct);
    }
}
