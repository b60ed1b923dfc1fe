using System.Text.Json;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;
using Mogplex.Client;
using Mogplex.Client.Streaming;

namespace Mogplex.Cli.Commands.Runs.Common;

/// <summary>
/// <c>runs events --follow</c>: prints each event of a run exactly once until the run is terminal.
/// Uses the live stream where the server offers it, reconnecting after a drop from the last event
/// printed (<c>Last-Event-ID</c>); polls every 1.5 s otherwise, de-duplicating by event id. A server
/// that cannot be reached is retried for <see cref="CliContext.ReconnectPatience"/>, then exit 69.
/// An event ID that cannot be sent as a header (<see cref="RunsClient.CanResumeFrom"/>: a CR or LF
/// in it, say) is never resumed from: the stream resumes from the last printed event whose ID can
/// be, or from the start, and the IDs already printed keep each event from printing twice.
/// </summary>
public sealed class EventFollower(CliContext context, RunsEventsOptions options)
{
    private const int PollPageSize = 200;
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxRetry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_maxQuietRetry = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> _printed = new(StringComparer.Ordinal);
    private string? _lastId;
    private string? _resumeId;
    private DateTimeOffset? _unreachableSince;
    private TimeSpan _retry = s_firstRetry;
    private int _quietStreams;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds), context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        string status;
        try
        {
            status = await FollowAsync(linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            context.Terminal.Stdout.Flush();
            throw new ExitCodeException(ExitCodes.Failure, $"--follow timed out after {options.TimeoutSeconds}s waiting for terminal status");
        }

        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, w =>
            {
                w.WriteStartObject();
                w.WriteString("runId", options.RunId);
                w.WriteString("status", status);
                w.WriteEndObject();
            });
        }
        else
        {
            output.WriteLine($"--- run {Text.OneLine(options.RunId)} {Text.OneLine(status)} ---");
        }

        output.Flush();
        return ExitCodes.Success;
    }

    private async Task<string> FollowAsync(CancellationToken ct)
    {
        var client = context.Client();
        while (true)
        {
            EventsAnswer answer;
            try
            {
                answer = await client.Runs.OpenStreamAsync(options.RunId, _resumeId, ct);
            }
            catch (ServerUnreachableException e)
            {
                await WaitBeforeRetryAsync(e, ct);
                continue;
            }

            if (answer.Stream is null)
            {
                // No live stream here: the answer is the first page; poll from it.
                Reached();
                return await PollAsync(client, answer.Page!.Value, ct);
            }

            var printedBefore = _printed.Count;
            using (answer.Stream)
            {
                Reached();
                try
                {
                    if (await ReadStreamAsync(answer.Stream, ct) is { } status)
                    {
                        return status;
                    }
                }
                catch (Exception e) when (e is IOException or ServerUnreachableException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    // Dropped, or silent past the keep-alive: reconnect from the last printed event.
                }
            }

            // A stream that brought something is resumed at once; one that keeps closing without a
            // new event (a proxy cutting it) is retried ever more slowly, so the follower does not
            // burn the caller's request budget.
            _quietStreams = _printed.Count > printedBefore ? 0 : _quietStreams + 1;
            var wait = TimeSpan.FromTicks(Math.Min(s_firstRetry.Ticks << Math.Min(_quietStreams, 5), s_maxQuietRetry.Ticks));
            await Task.Delay(wait, context.Time, ct);
        }
    }

    /// <summary>Reads until the <c>end</c> message (its status) or the stream ends (null).</summary>
    private async Task<string?> ReadStreamAsync(RunEventFeed stream, CancellationToken ct)
    {
        while (true)
        {
            SseMessage? message;
            using (var silence = new CancellationTokenSource(context.StreamIdleLimit, context.Time))
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(ct, silence.Token))
            {
                message = await stream.ReadAsync(idle.Token);
            }

            if (message is null)
            {
                return null;
            }

            var data = RunEventFeed.ParseData(message);
            if (message.Event == "end")
            {
                return data is { } end ? Fields.Str(end, "status") ?? "unknown" : "unknown";
            }

            if (data is { ValueKind: JsonValueKind.Object } e)
            {
                Print(e, message.Id);
                context.Terminal.Stdout.Flush();
            }
        }
    }

    private async Task<string> PollAsync(MogplexClient client, JsonElement page, CancellationToken ct)
    {
        var limit = options.Limit ?? PollPageSize;
        while (true)
        {
            var events = Fields.Items(Fields.Child(page, "events")).ToList();
            var printed = 0;
            foreach (var e in events)
            {
                printed += Print(e, null) ? 1 : 0;
            }

            context.Terminal.Stdout.Flush();
            var status = Fields.Str(Fields.Child(page, "run"), "status");
            var more = events.Count >= limit && printed > 0;
            if (RunText.IsTerminal(status) && printed == 0)
            {
                // Terminal, and a read after the terminal status brought nothing new: drained.
                return status!;
            }

            if (!more && !RunText.IsTerminal(status))
            {
                await Task.Delay(context.PollInterval, context.Time, ct);
            }

            while (true)
            {
                try
                {
                    page = await client.Runs.EventsAsync(options.RunId, limit, _lastId, ct);
                    Reached();
                    break;
                }
                catch (ServerUnreachableException e)
                {
                    await WaitBeforeRetryAsync(e, ct);
                }
            }
        }
    }

    private bool Print(JsonElement e, string? sseId)
    {
        var id = Fields.Str(e, "id") ?? sseId;
        if (id is null || !_printed.Add(id))
        {
            return false;
        }

        _lastId = id;
        if (RunsClient.CanResumeFrom(id))
        {
            _resumeId = id;
        }
        if (options.Json)
        {
            JsonOutput.WriteLine(context.Terminal.Stdout, e);
        }
        else
        {
            context.Terminal.Stdout.WriteLine(RunText.EventLine(e));
        }

        return true;
    }

    private void Reached()
    {
        _unreachableSince = null;
        _retry = s_firstRetry;
    }

    private async Task WaitBeforeRetryAsync(ServerUnreachableException e, CancellationToken ct)
    {
        var now = context.Time.GetUtcNow();
        _unreachableSince ??= now;
        if (now - _unreachableSince.Value >= context.ReconnectPatience)
        {
            throw e;
        }

        await Task.Delay(_retry, context.Time, ct);
        _retry = TimeSpan.FromTicks(Math.Min(_retry.Ticks * 2, s_maxRetry.Ticks));
    }
}
