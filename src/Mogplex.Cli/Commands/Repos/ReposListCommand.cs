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
        var repos = await context.Client().Repos.ListAsync(options.Query, options.Limit, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            foreach (var repo in Fields.Items(repos))
            {
                JsonOutput.WriteLine(output, repo);
            }

            return ExitCodes.Success;
        }

        var table = new TablePrinter("ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        foreach (var repo in Fields.Items(repos))
        {
            var root = Fields.Str(repo, "root_directory");
            table.Add(Fields.Str(repo, "id"), Fields.Str(repo, "full_name"), Fields.Str(repo, "default_branch"), string.IsNullOrEmpty(root) ? "." : root);
        }

        table.Write(output);
        return ExitCodes.Success;
    }
}
