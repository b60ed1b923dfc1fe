using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Sandboxes;

public sealed record SandboxesListOptions(string? RepoId, string? Status, int? Limit, bool Json);

/// <summary><c>mogplex sandboxes list [--repo ID] [--status S] [--limit N] [--json]</c>.</summary>
public static class SandboxesListCommand
{
    public static Command Create(CliContext context)
    {
        var repo = new Option<string?>("--repo") { Description = "Only sandboxes of this repository", HelpName = "id" };
        var status = new Option<string?>("--status") { Description = "Only sandboxes with this status", HelpName = "S" };
        status.CompletionSources.Add("creating", "installing", "running", "pausing", "paused", "stopped", "error");
        var limit = CommonOptions.Limit("sandboxes (server default 100, at most 200)");
        var json = CommonOptions.Json();
        var command = new Command("list", "List sandboxes, most recently active first.\n\nExample:\n  mogplex sandboxes list --status running") { repo, status, limit, json };
        command.SetAction((parse, ct) => RunAsync(context, new SandboxesListOptions(parse.GetValue(repo), parse.GetValue(status), parse.GetValue(limit), parse.GetValue(json)), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, SandboxesListOptions options, CancellationToken ct)
    {
        var list = await context.Client().Sandboxes.ListAsync(options.RepoId, options.Status, options.Limit, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            foreach (var sandbox in list.Sandboxes)
            {
                JsonOutput.WriteLine(output, sandbox.Json);
            }

            return ExitCodes.Success;
        }

        var table = new TablePrinter("ID", "STATUS", "REPO", "WORKING BRANCH", "LAST ACTIVE");
        foreach (var sandbox in list.Sandboxes)
        {
            table.Add(sandbox.Id, sandbox.Status, sandbox.RepoId, sandbox.WorkingBranch, sandbox.LastActiveAt);
        }

        table.Write(output);
        return ExitCodes.Success;
    }
}
