using Mogplex.Cli.Terminal;
using Mogplex.Client.Streaming;
using Mogplex.Client.Views;

namespace Mogplex.Cli.Commands.Runs.Common;

/// <summary>
/// <c>runs events --follow</c>: prints each event of a run exactly once until the run is terminal,
/// then a closing line (or object). The following itself (live stream, reconnects from the last
/// event, polling where there is no stream, de-duplication, patience with an unreachable server:
/// exit 69 after <see cref="CliContext.ReconnectPatience"/>) is the client's
/// (<see cref="Client.RunsClient.FollowAsync"/>); this prints it.
/// </summary>
public sealed class EventFollower(CliContext context, RunsEventsOptions options)
{
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
        var follow = new FollowOptions(context.Time, context.PollInterval, context.StreamIdleLimit, context.ReconnectPatience, options.Limit);
        var output = context.Terminal.Stdout;
        await foreach (var item in context.Client().Runs.FollowAsync(options.RunId, follow, ct))
        {
            switch (item)
            {
                case FollowItem.RunEventItem e when options.Json:
                    JsonOutput.WriteLine(output, e.Value);
                    break;
                case FollowItem.RunEventItem e:
                    output.WriteLine(RunText.EventLine(new RunEventView(e.Value)));
                    break;
                case FollowItem.CaughtUp:
                    output.Flush();
                    break;
                case FollowItem.Ended ended:
                    return ended.Status;
            }
        }

        // The client ends with Ended; a stream that stopped otherwise says nothing about the run.
        return "unknown";
    }
}
