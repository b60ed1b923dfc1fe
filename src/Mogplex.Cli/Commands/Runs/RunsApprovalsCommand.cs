using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsApprovalsOptions(string RunId, bool All, bool Json);

/// <summary>[beyond] <c>mogplex runs approvals &lt;runId&gt; [--all] [--json]</c>: what a run in permission mode approval waits for.</summary>
public static class RunsApprovalsCommand
{
    public static Command Create(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var all = new Option<bool>("--all") { Description = "Every approval of the run, not only the pending ones", Arity = ArgumentArity.Zero };
        var json = CommonOptions.Json();
        var command = new Command(
            "approvals",
            "List a run's pending approvals (mogplexd).\n\nExample:\n  mogplex runs approvals \"$run\"\n  mogplex runs approve \"$run\" <approvalId>")
        { runId, all, json };
        command.SetAction((parse, ct) => RunAsync(context, new RunsApprovalsOptions(parse.GetValue(runId)!, parse.GetValue(all), parse.GetValue(json)), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsApprovalsOptions options, CancellationToken ct)
    {
        var answer = await context.Client().Runs.ApprovalsAsync(options.RunId, options.All, ct);
        if (answer is not { } list)
        {
            context.Terminal.Stderr.WriteLine(RunsDecideCommand.NeedsMogplexd("runs approvals"));
            return ExitCodes.Failure;
        }

        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, list.Json);
            return ExitCodes.Success;
        }

        var approvals = list.Approvals;
        if (approvals.Count == 0)
        {
            output.WriteLine(options.All ? "no approvals" : "no pending approvals");
            return ExitCodes.Success;
        }

        foreach (var approval in approvals)
        {
            static string Field(string? value) => Text.OneLine(value ?? "-");
            output.WriteLine($"{Field(approval.Id)}  {Field(approval.Status),-8}  {Field(approval.Risk),-6}  {Field(approval.Action)}: {Field(approval.Target)}");
        }

        return ExitCodes.Success;
    }
}
