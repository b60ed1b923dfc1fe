using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Commands.Runs.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsEventsOptions(string RunId, bool Follow, int TimeoutSeconds, int? Limit, bool Json);

/// <summary><c>mogplex runs events &lt;runId&gt; [--follow] [--timeout S] [--limit N] [--json]</c>.</summary>
public static class RunsEventsCommand
{
    public const int DefaultTimeoutSeconds = 1800;

    public static Command Create(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until the run ends, then print its final status", Arity = ArgumentArity.Zero };
        var timeout = CommonOptions.Positive("--timeout", $"With --follow: give up after this many seconds (default {DefaultTimeoutSeconds}); the run goes on");
        timeout.HelpName = "S";
        var limit = CommonOptions.Limit("events per page (server default 100, at most 200)");
        var json = CommonOptions.Json();
        var command = new Command(
            "events",
            "Print a run's events; with --follow, tail them until the run ends.\n\nExample:\n  mogplex runs events \"$run\" --follow --timeout 600")
        {
            runId, follow, timeout, limit, json,
        };
        command.SetAction((parse, ct) => RunAsync(
            context,
            new RunsEventsOptions(parse.GetValue(runId)!, parse.GetValue(follow), parse.GetValue(timeout) ?? DefaultTimeoutSeconds, parse.GetValue(limit), parse.GetValue(json)),
            ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsEventsOptions options, CancellationToken ct)
    {
        if (options.Follow)
        {
            return await new EventFollower(context, options).RunAsync(ct);
        }

        var page = await context.Client().Runs.EventsAsync(options.RunId, options.Limit, null, ct);
        var output = context.Terminal.Stdout;
        foreach (var e in page.Events)
        {
            if (options.Json)
            {
                JsonOutput.WriteLine(output, e.Json);
            }
            else
            {
                output.WriteLine(RunText.EventLine(e));
            }
        }

        return ExitCodes.Success;
    }
}
