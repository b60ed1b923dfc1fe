using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Commands.Runs.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsGetOptions(string RunId, bool Json);

/// <summary><c>mogplex runs get &lt;runId&gt; [--json]</c>.</summary>
public static class RunsGetCommand
{
    public static Command Create(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var json = CommonOptions.Json();
        var command = new Command("get", "Show a run.\n\nExample:\n  mogplex runs get \"$run\" --json | jq -r .status") { runId, json };
        command.SetAction((parse, ct) => RunAsync(context, new RunsGetOptions(parse.GetValue(runId)!, parse.GetValue(json)), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsGetOptions options, CancellationToken ct)
    {
        var run = await context.Client().Runs.GetAsync(options.RunId, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, run.Json);
            return ExitCodes.Success;
        }

        static string Field(string? value) => Text.OneLine(value ?? "-");
        output.WriteLine($"run     {Field(run.Id)}");
        output.WriteLine($"status  {Field(run.Status)}");
        if (RunText.Queue(run) is { } queue)
        {
            output.WriteLine($"queue   {queue}");
        }

        output.WriteLine($"harness {Field(run.Harness)}");
        output.WriteLine($"repo    {Field(run.RepoId)}");
        output.WriteLine($"branch  {RunText.Branch(run)}");
        output.WriteLine($"sandbox {Field(run.SandboxId)}");
        output.WriteLine($"events  {Field(run.EventsUrl)}");
        output.WriteLine($"cancel  {Field(run.CancelUrl)}");
        output.WriteLine($"created {Field(run.CreatedAt)}");
        output.WriteLine($"updated {Field(run.UpdatedAt)}");
        if (run.Error is { Length: > 0 } error)
        {
            output.WriteLine($"error   {Text.OneLine(error)}");
        }

        return ExitCodes.Success;
    }
}
