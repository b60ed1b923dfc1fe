using System.CommandLine;
using Mogplex.Cli.Commands.Repos;

namespace Mogplex.Cli.Commands;

/// <summary><c>mogplex repos</c>: registers its verbs.</summary>
public static class ReposCommand
{
    public static Command Create(CliContext context) =>
        new("repos", "Repositories you can start runs on.") { ReposListCommand.Create(context) };
}
