using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsDecideOptions(string RunId, string ApprovalId, bool Approve, string? Reason, bool Json);

/// <summary>
/// [beyond] <c>mogplex runs approve &lt;runId&gt; &lt;approvalId&gt;</c> and <c>runs reject … [--reason …]</c>:
/// a person's answer; the first answer wins (another one exits 1 naming how the approval was closed).
/// </summary>
public static class RunsDecideCommand
{
    public const int MaxReasonLength = Mogplex.Contracts.ApiLimits.MaxReasonLength;

    public static Command Create(CliContext context, bool approve)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var approvalId = new Argument<string>("approvalId") { Description = "The approval's ID (from runs approvals)" };
        var json = CommonOptions.Json();
        var reason = new Option<string?>("--reason") { Description = "Why (the agent is told)", HelpName = "text" };
        var command = approve
            ? new Command("approve", "Approve a pending tool call of a run (mogplexd).\n\nExample:\n  mogplex runs approve \"$run\" \"$approval\"") { runId, approvalId, json }
            : new Command("reject", "Reject a pending tool call of a run; the agent is told and goes on without it (mogplexd).\n\nExample:\n  mogplex runs reject \"$run\" \"$approval\" --reason \"not on main\"") { runId, approvalId, reason, json };
        command.SetAction((parse, ct) => RunAsync(
            context,
            new RunsDecideOptions(parse.GetValue(runId)!, parse.GetValue(approvalId)!, approve, approve ? null : parse.GetValue(reason), parse.GetValue(json)),
            ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsDecideOptions options, CancellationToken ct)
    {
        var verb = options.Approve ? "runs approve" : "runs reject";
        if (options.Reason is { Length: > MaxReasonLength })
        {
            throw new UsageException($"{verb}: --reason is longer than {MaxReasonLength:N0} characters");
        }

        var answer = await context.Client().Runs.DecideAsync(options.RunId, options.ApprovalId, options.Approve, options.Reason, ct);
        if (answer is not { } decided)
        {
            context.Terminal.Stderr.WriteLine(NeedsMogplexd(verb));
            return ExitCodes.Failure;
        }

        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, decided.Json);
            return ExitCodes.Success;
        }

        var approval = decided.Approval;
        output.WriteLine($"approval {Text.OneLine(approval.Id ?? options.ApprovalId)} {Text.OneLine(approval.Status ?? "?")}");
        return ExitCodes.Success;
    }

    /// <summary>What a server without these routes (the hosted service) gets: a clear error, exit 1.</summary>
    public static string NeedsMogplexd(string verb) =>
        $"error: {verb} needs a mogplexd server (this server has no approvals; see MOGPLEX_URL)";
}
