using System.CommandLine;
using Mogplex.Cli.Commands.Sandboxes;

namespace Mogplex.Cli.Commands;

/// <summary><c>mogplex sandboxes</c>: registers its verbs.</summary>
public static class SandboxesCommand
{
    public static Command Create(CliContext context) =>
        new("sandboxes", "List and stop sandboxes (the checkouts runs work in).")
        {
            SandboxesListCommand.Create(context),
            SandboxesStopCommand.Create(context),
        };
}
