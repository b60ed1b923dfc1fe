using System.Net;
using System.Text;
using System.Text.Json;
using Mogplex.Client.Streaming;
using Mogplex.Client.Views;
using Mogplex.Contracts;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;

namespace Mogplex.Client;

/// <summary>The run routes: start, get, events (page or live stream), cancel, [beyond] list.</summary>
public sealed class RunsClient(MogplexClient client)
{
    /// <summary>
    /// <c>POST /runs</c>: the run detail plus <c>replayed</c>. The body is <paramref name="body"/> as
    /// <see cref="StartBody"/> writes it: a field left null is not sent at all.
    /// </summary>
    public async Task<RunView> StartAsync(StartRunRequest body, string idempotencyKey, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.Runs);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        request.Content = new ReadOnlyMemoryContent(StartBody(body));
        request.Content.Headers.ContentType = new("application/json") { CharSet = Encoding.UTF8.WebName };
        return new RunView(await client.SendAsync(request, ct));
    }

    /// <summary>
    /// The JSON of a <c>POST /runs</c> body, source-generated (AOT-safe): only the fields that are
    /// set, since the server tells an omitted field from a null one (an omitted root is the repo's,
    /// a null one the repository root).
    /// </summary>
    public static ReadOnlyMemory<byte> StartBody(StartRunRequest body) =>
        JsonSerializer.SerializeToUtf8Bytes(body, MogplexJsonContext.Default.StartRunRequest);

    /// <summary><c>GET /runs/{id}</c>: the run detail (the <c>run</c> of the answer).</summary>
    public async Task<RunView> GetAsync(string runId, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Get, ApiRoutes.Run(MogplexClient.Id(runId)));
        var data = await client.SendAsync(request, ct);
        return new RunView(MogplexClient.Field(data, RunView.Names.Envelope));
    }

    /// <summary><c>GET /runs/{id}/events</c>: <c>{run, events}</c>; <paramref name="after"/> is [beyond].</summary>
    public async Task<RunEventsPageView> EventsAsync(string runId, int? limit, string? after, CancellationToken ct)
    {
        using var request = client.NewRequest(
            HttpMethod.Get, ApiRoutes.RunEvents(MogplexClient.Id(runId)), ("limit", MogplexClient.Number(limit)), ("after", after));
        return new RunEventsPageView(await client.SendAsync(request, ct));
    }

    /// <summary>The longest event ID sent back as <c>Last-Event-ID</c>.</summary>
    public const int MaxLastEventIdLength = 1024;

    /// <summary>
    /// Whether an event ID can be sent back as <c>Last-Event-ID</c>: 1 to
    /// <see cref="MaxLastEventIdLength"/> visible ASCII characters (no space, no control character,
    /// nothing a header cannot carry unchanged). The server chooses the IDs; one that is not like
    /// this (a CR or LF in it, say) is not resumed from.
    /// </summary>
    public static bool CanResumeFrom(string? eventId) =>
        eventId is { Length: > 0 and <= MaxLastEventIdLength } && !eventId.AsSpan().ContainsAnyExceptInRange('!', '~');

    /// <summary>
    /// Asks for the [beyond] live stream, resuming after <paramref name="lastEventId"/> (which must
    /// pass <see cref="CanResumeFrom"/>). Returns an open <see cref="RunEventFeed"/> when the
    /// server answers with Server-Sent Events, the ordinary page (<c>{run, events}</c>) when it
    /// does not offer the stream, or <see cref="EventsAnswer.Finished"/> when it answers 204 No
    /// Content (the EventSource "stop reconnecting": the run is terminal and has no event after
    /// <paramref name="lastEventId"/>).
    /// </summary>
    public async Task<EventsAnswer> OpenStreamAsync(string runId, string? lastEventId, CancellationToken ct)
    {
        if (lastEventId is not null && !CanResumeFrom(lastEventId))
        {
            throw new ArgumentException("not an event ID to resume from", nameof(lastEventId));
        }

        var request = client.NewRequest(HttpMethod.Get, ApiRoutes.RunEvents(MogplexClient.Id(runId)));
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var headers = CancellationTokenSource.CreateLinkedTokenSource(ct);
        headers.CancelAfter(client.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await client.SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token, ct);
        }
        catch
        {
            request.Dispose();
            throw;
        }

        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            response.Dispose();
            request.Dispose();
            return EventsAnswer.Done;
        }

        if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(ct);
            }
            catch (HttpRequestException e)
            {
                response.Dispose();
                request.Dispose();
                throw new ServerUnreachableException(client.Address.Display, e.Message, e);
            }

            return new EventsAnswer(new RunEventFeed(request, response, body), null);
        }

        using (request)
        using (response)
        {
            return new EventsAnswer(null, await client.ReadDataAsync(response, headers.Token, ct));
        }
    }

    /// <summary>
    /// Follows a run until it is terminal: each event once, in order, across stream drops and
    /// polling (<see cref="Streaming.FollowItem"/>; the last item is <see cref="Streaming.FollowItem.Ended"/>).
    /// </summary>
    /// <exception cref="ServerUnreachableException">The server stayed unreachable past <see cref="Streaming.FollowOptions.ReconnectPatience"/>.</exception>
    public IAsyncEnumerable<Streaming.FollowItem> FollowAsync(string runId, Streaming.FollowOptions options, CancellationToken ct) =>
        new Streaming.RunFollower(this, runId, options).FollowAsync(ct);

    /// <summary><c>POST /runs/{id}/cancel</c>: <c>{run, status, alreadyTerminal}</c>.</summary>
    public async Task<CancelResultView> CancelAsync(string runId, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.RunCancel(MogplexClient.Id(runId)));
        return new CancelResultView(await client.SendAsync(request, ct));
    }

    /// <summary>
    /// [beyond] <c>GET /runs/{id}/approvals</c>: <c>{approvals}</c> (pending, or every one), or null
    /// when the server has no such route (the hosted service).
    /// </summary>
    public async Task<ApprovalListView?> ApprovalsAsync(string runId, bool all, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Get, ApiRoutes.RunApprovals(MogplexClient.Id(runId)), ("status", all ? "all" : "pending"));
        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new ApprovalListView(data) : null;
    }

    /// <summary>
    /// [beyond] <c>POST /runs/{id}/approvals/{approvalId}</c>: <c>{approval}</c>, or null when the
    /// server has no such route. A closed approval is an <see cref="ApiException"/> (409 APPROVAL_CLOSED).
    /// </summary>
    public async Task<DecidedApprovalView?> DecideAsync(string runId, string approvalId, bool approve, string? reason, CancellationToken ct)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("decision", approve ? "approve" : "reject");
            if (reason is not null)
            {
                writer.WriteString("reason", reason);
            }

            writer.WriteEndObject();
        }

        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.RunApproval(MogplexClient.Id(runId), MogplexClient.Id(approvalId)));
        request.Content = new ByteArrayContent(buffer.WrittenMemory.ToArray());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new DecidedApprovalView(data) : null;
    }

    /// <summary>
    /// [beyond] <c>POST /runs/{id}/messages</c>: <c>{messageId, queued}</c>, or null when the server
    /// has no such route. <paramref name="key"/> is sent as <c>Idempotency-Key</c> (a retry finds the message it sent).
    /// </summary>
    public async Task<MessageAcceptedView?> SendMessageAsync(string runId, string text, bool steer, string? key, CancellationToken ct)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("text", text);
            writer.WriteString("mode", steer ? "steer" : "queue");
            writer.WriteEndObject();
        }

        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.RunMessages(MogplexClient.Id(runId)));
        request.Content = new ByteArrayContent(buffer.WrittenMemory.ToArray());
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new MessageAcceptedView(data) : null;
    }

    /// <summary>[beyond] <c>POST /runs/{id}/interrupt</c> or <c>/finish</c>: <c>{runId, inputId, kind}</c>, or null when the server has no such route.</summary>
    public async Task<RunInputAcceptedView?> SignalAsync(string runId, string kind, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Post, kind == "finish" ? ApiRoutes.RunFinish(MogplexClient.Id(runId)) : ApiRoutes.RunInterrupt(MogplexClient.Id(runId)));
        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new RunInputAcceptedView(data) : null;
    }

    /// <summary>[beyond] <c>GET /runs/{id}/diff</c>: <c>{base, head, files, patch, truncated}</c>, or null when the server has no such route.</summary>
    public async Task<RunDiffView?> DiffAsync(string runId, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Get, ApiRoutes.RunDiff(MogplexClient.Id(runId)));
        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new RunDiffView(data) : null;
    }

    private async Task<JsonElement?> WithoutRouteAsNullAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await client.SendAsync(request, ct);
        }
        catch (ApiException e) when (!e.IsEnvelope && e.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return null;
        }
    }

    /// <summary>
    /// [beyond] <c>GET /runs</c>: <c>{runs, nextCursor}</c>, or null when the server has no such
    /// route (a 404 or 405 without the API envelope).
    /// </summary>
    public async Task<RunListView?> ListAsync(string? repoId, string? status, int? limit, string? cursor, CancellationToken ct, string? awaiting = null)
    {
        using var request = client.NewRequest(
            HttpMethod.Get, ApiRoutes.Runs, ("repo_id", repoId), ("status", status), ("awaiting", awaiting), ("limit", MogplexClient.Number(limit)), ("cursor", cursor));
        return await WithoutRouteAsNullAsync(request, ct) is { } data ? new RunListView(data) : null;
    }
}

/// <summary>
/// An open live stream; or, from a server without one, the events page; or neither
/// (<see cref="Finished"/>): the server answered 204, nothing more will come.
/// </summary>
public sealed record EventsAnswer(RunEventFeed? Stream, JsonElement? Page)
{
    /// <summary>The answer to a stream request that got 204 No Content.</summary>
    public static EventsAnswer Done { get; } = new(null, null);

    /// <summary>The server said the run is over and nothing follows the resume point (204 No Content).</summary>
    public bool Finished => Stream is null && Page is null;
}
