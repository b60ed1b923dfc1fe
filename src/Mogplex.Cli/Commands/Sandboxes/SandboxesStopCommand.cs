using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Sandboxes;

public sealed record SandboxesStopOptions(string Id);

/// <summary>
/// <c>mogplex sandboxes stop &lt;id&gt;</c>: calls the [beyond] <c>POST /sandboxes/{id}/stop</c>; on a
/// server without that route (the hosted service) it prints where to stop the sandbox instead.
/// </summary>
public static class SandboxesStopCommand
{
    public static Command Create(CliContext context)
    {
        var id = new Argument<string>("id") { Description = "The sandbox's ID (see `mogplex sandboxes list`)" };
        var command = new Command("stop", "Stop a sandbox: its processes end and its checkout is removed.\n\nExample:\n  mogplex sandboxes stop \"$sandbox\"") { id };
        command.SetAction((parse, ct) => RunAsync(context, new SandboxesStopOptions(parse.GetValue(id)!), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, SandboxesStopOptions options, CancellationToken ct)
    {
        var client = context.Client();
        var result = await client.Sandboxes.StopAsync(options.Id, ct);
        var id = Text.OneLine(options.Id);
        if (result is null)
        {
            context.Terminal.Stdout.WriteLine(
                $"this server cannot stop sandboxes from the command line yet; stop sandbox {id} in the web UI at {client.Address.Display}");
            return ExitCodes.Success;
        }

        context.Terminal.Stdout.WriteLine(result.Value.AlreadyStopped ? $"sandbox {id} was already stopped" : $"stopped sandbox {id}");
        return ExitCodes.Success;
    }
}
