using System.CommandLine;
using Mogplex.Cli.Commands.Runs;

namespace Mogplex.Cli.Commands;

/// <summary><c>mogplex runs</c>: registers its verbs.</summary>
public static class RunsCommand
{
    public static Command Create(CliContext context) =>
        new("runs", "Inspect, follow and cancel runs; answer their approvals; talk to interactive runs.")
        {
            RunsGetCommand.Create(context),
            RunsEventsCommand.Create(context),
            RunsCancelCommand.Create(context),
            RunsListCommand.Create(context),
            RunsApprovalsCommand.Create(context),
            RunsDecideCommand.Create(context, approve: true),
            RunsDecideCommand.Create(context, approve: false),
            RunsTalkCommands.Send(context),
            RunsTalkCommands.Signal(context, "interrupt"),
            RunsTalkCommands.Signal(context, "finish"),
            RunsTalkCommands.Diff(context),
        };
}
