using System.Runtime.CompilerServices;
using System.Text.Json;
using Mogplex.Client.Views;
using Mogplex.Contracts.Runs;

namespace Mogplex.Client.Streaming;

/// <summary>How to follow a run: the clock, the poll interval where no live stream is offered, how long a silent stream is trusted, and how long an unreachable server is retried.</summary>
/// <param name="Time">The clock every wait uses (tests advance a fake one).</param>
/// <param name="PollInterval">The wait between two pages when the server has no live stream.</param>
/// <param name="StreamIdleLimit">A live stream silent this long (no event, no keep-alive) is dropped and reopened.</param>
/// <param name="ReconnectPatience">How long an unreachable server is retried before <see cref="ServerUnreachableException"/> is thrown.</param>
/// <param name="PageSize">Events per page when polling (default 200).</param>
public sealed record FollowOptions(TimeProvider Time, TimeSpan PollInterval, TimeSpan StreamIdleLimit, TimeSpan ReconnectPatience, int? PageSize = null);

/// <summary>What following a run yields, in order.</summary>
public abstract record FollowItem
{
    private FollowItem()
    {
    }

    /// <summary>An event, once (de-duplicated by id across reconnects and polls).</summary>
    public sealed record RunEventItem(JsonElement Value, string Id) : FollowItem;

    /// <summary>What was there is delivered: a reader that buffers output writes it out now.</summary>
    public sealed record CaughtUp : FollowItem;

    /// <summary>The server could (again) be reached, or not: a reconnect is under way.</summary>
    public sealed record Connection(bool Reachable) : FollowItem;

    /// <summary>The run is terminal and every event was yielded; the last item.</summary>
    public sealed record Ended(string Status) : FollowItem;
}

/// <summary>
/// Follows a run until it is terminal, yielding each event exactly once. Uses the live stream where
/// the server offers it, reconnecting after a drop from the last event yielded
/// (<c>Last-Event-ID</c>); polls otherwise, de-duplicating by event id. A server that cannot be
/// reached is retried for <see cref="FollowOptions.ReconnectPatience"/>, then
/// <see cref="ServerUnreachableException"/>. An event ID that cannot be sent as a header
/// (<see cref="RunsClient.CanResumeFrom"/>: a CR or LF in it, say) is never resumed from: the stream
/// resumes from the last event whose ID can be, or from the start, and the IDs already yielded keep
/// each event from coming twice. A 204 No Content on a (re)connect means the run is terminal with
/// nothing after the resume point (its <c>end</c> was lost): the run is read once for its final
/// status and the follow ends as on <c>end</c>. Used by <c>mogplex runs events --follow</c> and the cockpit.
/// </summary>
internal sealed class RunFollower(RunsClient runs, string runId, FollowOptions options)
{
    private const int DefaultPageSize = 200;
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_maxQuietRetry = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private string? _lastId;
    private string? _resumeId;
    private DateTimeOffset? _unreachableSince;
    private TimeSpan _retry = s_firstRetry;
    private int _quietStreams;

    public async IAsyncEnumerable<FollowItem> FollowAsync([EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            EventsAnswer? answer = null;
            ServerUnreachableException? unreachable = null;
            try
            {
                answer = await runs.OpenStreamAsync(runId, _resumeId, ct);
            }
            catch (ServerUnreachableException e)
            {
                unreachable = e;
            }

            if (unreachable is not null)
            {
                if (_unreachableSince is null)
                {
                    yield return new FollowItem.Connection(false);
                }

                await WaitBeforeRetryAsync(unreachable, ct);
                continue;
            }

            if (answer!.Finished)
            {
                // 204 on a (re)connect: the run is terminal and nothing follows the last event
                // yielded (the stream's end was lost with a dropped connection). Its final status
                // is one read away; a run that is somehow not terminal is followed on.
                foreach (var item in Reached())
                {
                    yield return item;
                }

                string? status = null;
                try
                {
                    status = (await runs.GetAsync(runId, ct)).Status;
                }
                catch (ServerUnreachableException e)
                {
                    unreachable = e;
                }

                if (unreachable is not null)
                {
                    yield return new FollowItem.Connection(false);
                    await WaitBeforeRetryAsync(unreachable, ct);
                    continue;
                }

                if (status is not null && RunStatuses.IsTerminal(status))
                {
                    yield return new FollowItem.Ended(status);
                    yield break;
                }

                _quietStreams++;
                await Task.Delay(QuietRetry(), options.Time, ct);
                continue;
            }

            if (answer.Stream is null)
            {
                // No live stream here: the answer is the first page; poll from it.
                foreach (var item in Reached())
                {
                    yield return item;
                }

                await foreach (var item in PollAsync(answer.Page!.Value, ct))
                {
                    yield return item;
                }

                yield break;
            }

            var seenBefore = _seen.Count;
            using (answer.Stream)
            {
                foreach (var item in Reached())
                {
                    yield return item;
                }

                var reader = answer.Stream;
                while (true)
                {
                    SseMessage? message;
                    try
                    {
                        using var silence = new CancellationTokenSource(options.StreamIdleLimit, options.Time);
                        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct, silence.Token);
                        message = await reader.ReadAsync(idle.Token);
                    }
                    catch (Exception e) when (e is IOException or ServerUnreachableException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                    {
                        // Dropped, or silent past the keep-alive: reconnect from the last event yielded.
                        break;
                    }

                    if (message is null)
                    {
                        break;
                    }

                    var data = RunEventFeed.ParseData(message);
                    if (message.Event == "end")
                    {
                        yield return new FollowItem.Ended(data is { ValueKind: JsonValueKind.Object } end && end.TryGetProperty(RunView.Names.Status, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "unknown");
                        yield break;
                    }

                    if (data is { ValueKind: JsonValueKind.Object } value && Take(value, message.Id) is { } taken)
                    {
                        yield return taken;
                        yield return new FollowItem.CaughtUp();
                    }
                }
            }

            // A stream that brought something is resumed at once; one that keeps closing without a
            // new event (a proxy cutting it) is retried ever more slowly, so the follower does not
            // burn the caller's request budget.
            _quietStreams = _seen.Count > seenBefore ? 0 : _quietStreams + 1;
            await Task.Delay(QuietRetry(), options.Time, ct);
        }
    }

    private TimeSpan QuietRetry() => TimeSpan.FromTicks(Math.Min(s_firstRetry.Ticks << Math.Min(_quietStreams, 5), s_maxQuietRetry.Ticks));

    private async IAsyncEnumerable<FollowItem> PollAsync(JsonElement page, [EnumeratorCancellation] CancellationToken ct)
    {
        var limit = options.PageSize ?? DefaultPageSize;
        while (true)
        {
            var events = page.TryGetProperty(RunEventsPageView.Names.Events, out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [];
            var taken = 0;
            foreach (var e in events)
            {
                if (Take(e, null) is { } item)
                {
                    taken++;
                    yield return item;
                }
            }

            yield return new FollowItem.CaughtUp();
            var status = page.TryGetProperty(RunView.Names.Envelope, out var run) && run.ValueKind == JsonValueKind.Object && run.TryGetProperty(RunView.Names.Status, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var terminal = status is not null && RunStatuses.IsTerminal(status);
            if (terminal && taken == 0)
            {
                // Terminal, and a read after the terminal status brought nothing new: drained.
                yield return new FollowItem.Ended(status!);
                yield break;
            }

            if (!(events.Count >= limit && taken > 0) && !terminal)
            {
                await Task.Delay(options.PollInterval, options.Time, ct);
            }

            while (true)
            {
                ServerUnreachableException? unreachable = null;
                try
                {
                    page = (await runs.EventsAsync(runId, limit, _lastId, ct)).Json;
                }
                catch (ServerUnreachableException e)
                {
                    unreachable = e;
                }

                if (unreachable is null)
                {
                    foreach (var item in Reached())
                    {
                        yield return item;
                    }

                    break;
                }

                if (_unreachableSince is null)
                {
                    yield return new FollowItem.Connection(false);
                }

                await WaitBeforeRetryAsync(unreachable, ct);
            }
        }
    }

    private FollowItem.RunEventItem? Take(JsonElement e, string? sseId)
    {
        var id = e.TryGetProperty(RunEventView.Names.Id, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : sseId;
        if (id is null || !_seen.Add(id))
        {
            return null;
        }

        _lastId = id;
        if (RunsClient.CanResumeFrom(id))
        {
            _resumeId = id;
        }

        return new FollowItem.RunEventItem(e, id);
    }

    /// <summary>The server answered: the retry schedule starts over (and a reader that saw it unreachable is told).</summary>
    private IEnumerable<FollowItem> Reached()
    {
        var wasUnreachable = _unreachableSince is not null;
        _unreachableSince = null;
        _retry = s_firstRetry;
        if (wasUnreachable)
        {
            yield return new FollowItem.Connection(true);
        }
    }

    private async Task WaitBeforeRetryAsync(ServerUnreachableException e, CancellationToken ct)
    {
        var now = options.Time.GetUtcNow();
        _unreachableSince ??= now;
        if (now - _unreachableSince.Value >= options.ReconnectPatience)
        {
            throw e;
        }

        await Task.Delay(_retry, options.Time, ct);
        _retry = TimeSpan.FromTicks(Math.Min(_retry.Ticks * 2, s_maxRetry.Ticks));
    }
}
