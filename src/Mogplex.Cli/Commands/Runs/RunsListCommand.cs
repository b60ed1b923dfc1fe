using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsListOptions(string? RepoId, string? Status, int? Limit, bool Json)
{
    /// <summary>[beyond] <c>approval</c> or <c>input</c>: only runs waiting for a person (mogplexd).</summary>
    public string? Awaiting { get; init; }
}

/// <summary>[beyond] <c>mogplex runs list [--repo ID] [--status S] [--awaiting approval|input] [--limit N] [--json]</c>: newest first.</summary>
public static class RunsListCommand
{
    public const string NotListed = "this server does not list runs";

    public static Command Create(CliContext context)
    {
        var repo = new Option<string?>("--repo") { Description = "Only runs of this repository", HelpName = "id" };
        var status = new Option<string?>("--status") { Description = "Only runs with this status", HelpName = "pending|streaming|success|failed|cancelled" };
        status.CompletionSources.Add("pending", "streaming", "success", "failed", "cancelled");
        var awaiting = new Option<string?>("--awaiting") { Description = "Only runs waiting for a person: approval (a pending approval) or input", HelpName = "approval|input" };
        awaiting.AcceptOnlyFromAmong("approval", "input");
        var limit = CommonOptions.Limit("runs (server default 20, at most 200)");
        var json = CommonOptions.Json();
        var command = new Command("list", "List your runs, newest first (needs a server with GET /runs, such as mogplexd).\n\nExample:\n  mogplex runs list --status failed --json | jq -r .runId") { repo, status, awaiting, limit, json };
        command.SetAction((parse, ct) => RunAsync(context, new RunsListOptions(parse.GetValue(repo), parse.GetValue(status), parse.GetValue(limit), parse.GetValue(json)) { Awaiting = parse.GetValue(awaiting) }, ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunsListOptions options, CancellationToken ct)
    {
        var page = await context.Client().Runs.ListAsync(options.RepoId, options.Status, options.Limit, null, ct, options.Awaiting)
            ?? throw new ExitCodeException(ExitCodes.Failure, NotListed);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            foreach (var run in page.Runs)
            {
                JsonOutput.WriteLine(output, run.Json);
            }

            return ExitCodes.Success;
        }

        var table = new TablePrinter("RUN", "STATUS", "HARNESS", "REPO", "BRANCH", "CREATED");
        foreach (var run in page.Runs)
        {
            table.Add(run.Id, run.Status, run.Harness, run.RepoId, run.Branch.Working, run.CreatedAt);
        }

        table.Write(output);
        return ExitCodes.Success;
    }
}
