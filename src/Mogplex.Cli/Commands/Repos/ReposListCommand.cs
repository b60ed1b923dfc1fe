using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Repos;

public sealed record ReposListOptions(string? Query, int? Limit, bool Json);

/// <summary><c>mogplex repos list [--query Q] [--limit N] [--json]</c>.</summary>
public static class ReposListCommand
{
    public static Command Create(CliContext context)
    {
        var query = new Option<string?>("--query", "-q") { Description = "Only repos whose full name contains this (case-insensitive)", HelpName = "Q" };
        var limit = CommonOptions.Limit("repos (server default 100, at most 200)");
        var json = CommonOptions.Json();
        var command = new Command("list", "List repositories.\n\nExample:\n  mogplex repos list --query api --json | jq -r .id") { query, limit, json };
        command.SetAction((parse, ct) => RunAsync(context, new ReposListOptions(parse.GetValue(query), parse.GetValue(limit), parse.GetValue(json)), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, ReposListOptions options, CancellationToken ct)
    {
        var list = await context.Client().Repos.ListAsync(options.Query, options.Limit, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            foreach (var repo in list.Repos)
            {
                JsonOutput.WriteLine(output, repo.Json);
            }

            return ExitCodes.Success;
        }

        var table = new TablePrinter("ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        foreach (var repo in list.Repos)
        {
            var root = repo.RootDirectory;
            table.Add(repo.Id, repo.FullName, repo.DefaultBranch, string.IsNullOrEmpty(root) ? "." : root);
        }

        table.Write(output);
        return ExitCodes.Success;
    }
}
