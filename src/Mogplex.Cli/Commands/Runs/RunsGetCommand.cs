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
            JsonOutput.WriteLine(output, run);
            return ExitCodes.Success;
        }

        string Field(string name) => Text.OneLine(Fields.Str(run, name) ?? "-");
        output.WriteLine($"run     {Field("runId")}");
        output.WriteLine($"status  {Field("status")}");
        output.WriteLine($"harness {Field("harness")}");
        output.WriteLine($"repo    {Field("repoId")}");
        output.WriteLine($"branch  {RunText.Branch(run)}");
        output.WriteLine($"sandbox {Field("sandboxId")}");
        output.WriteLine($"events  {Field("eventsUrl")}");
        output.WriteLine($"cancel  {Field("cancelUrl")}");
        output.WriteLine($"created {Field("createdAt")}");
        output.WriteLine($"updated {Field("updatedAt")}");
        if (Fields.Str(run, "error") is { Length: > 0 } error)
        {
            output.WriteLine($"error   {Text.OneLine(error)}");
        }

        return ExitCodes.Success;
    }
}
