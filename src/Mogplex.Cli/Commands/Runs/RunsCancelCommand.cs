using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsCancelOptions(string RunId, bool Json);

/// <summary><c>mogplex runs cancel &lt;runId&gt; [--json]</c>.</summary>
public static class RunsCancelCommand
{
    public static Command Create(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var json = CommonOptions.Json();
        var command = new Command("cancel", "Cancel a run (answers with the status after the call; a terminal run is left as it is).\n\nExample:\n  mogplex runs cancel \"$run\"") { runId, json };
        command.SetAction((parse, ct) => RunAsync(context, new RunsCancelOptions(parse.GetValue(runId)!, parse.GetValue(json)), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsCancelOptions options, CancellationToken ct)
    {
        var result = await context.Client().Runs.CancelAsync(options.RunId, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, result.Json);
            return ExitCodes.Success;
        }

        var runId = Text.OneLine(result.Run.Id ?? options.RunId);
        var status = Text.OneLine(result.Status);
        if (result.AlreadyTerminal)
        {
            output.WriteLine($"run {runId} is already {status}");
            return ExitCodes.Success;
        }

        output.WriteLine($"cancellation requested for run {runId}");
        output.WriteLine($"status: {status}");
        return ExitCodes.Success;
    }
}
