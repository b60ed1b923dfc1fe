using System.CommandLine;
using Mogplex.Server.Commands;
using Mogplex.Server.Configuration;

namespace Mogplex.Server;

/// <summary>Entry point of <c>mogplexd</c>: <c>serve</c> and the operator commands.</summary>
public static class Program
{
    public static Task<int> Main(string[] args)
    {
        var global = new GlobalOptions();
        var root = new RootCommand($"mogplexd {VersionInfo.Version}: the self-hosted Mogplex server (v1 REST API, run engine, operator commands).");
        global.AddTo(root);
        root.Subcommands.Add(ServeCommand.Create(global));
        root.Subcommands.Add(TokenCommands.Create(global));
        root.Subcommands.Add(RepoCommands.Create(global));
        root.Subcommands.Add(UserCommands.Create(global));
        root.Subcommands.Add(RunCommands.Create(global));
        root.Subcommands.Add(LimitsCommands.Create(global));
        // No System.CommandLine termination handling: its SIGTERM/SIGINT handler blocks the signal
        // for 2 s and then forces exit code 143/130, which cut short the host's graceful shutdown
        // (ConsoleLifetime stops the server and `serve` returns 0). Operator commands keep the
        // default signal behaviour; their writes are single store transactions.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
