using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Cockpit;

/// <summary>
/// What boots for anything that is not a headless command and not a replay, until the process
/// and daemon transports exist: a screen that says so honestly and how to quit. Without a
/// terminal (a script, a pipe) the cockpit cannot run at all, so it explains itself on stderr and
/// exits 2, suggesting the command the first word was probably meant to be.
/// </summary>
public static class CockpitPlaceholder
{
    public static int Run(CliContext context, string[] args)
    {
        var terminal = context.Terminal;
        var hint = args.Length > 0 && !args[0].StartsWith('-') ? Suggestions.Closest(args[0], CliApp.Subcommands) : null;
        if (!terminal.IsOutputTerminal || terminal.IsInputRedirected)
        {
            var said = args.Length == 0 ? "" : $" (for '{Text.OneLine(string.Join(' ', args))}')";
            terminal.Stderr.WriteLine($"error: the cockpit needs a terminal on stdout{said}; scripts use the headless commands");
            if (hint is not null)
            {
                terminal.Stderr.WriteLine($"did you mean 'mogplex {hint}'?");
            }

            terminal.Stderr.WriteLine("headless commands: mogplex repos|run|runs|sandboxes ... (see mogplex --help)");
            return ExitCodes.Usage;
        }

        var output = terminal.Stdout;
        output.WriteLine($"mogplex {VersionInfo.Version}: interactive cockpit");
        output.WriteLine();
        output.WriteLine("This version of the cockpit replays a run: mogplex runs events <id> --json | mogplex");
        output.WriteLine("Starting and steering runs from here (the process and daemon transports) is not built");
        output.WriteLine("yet. Everything it will show is available today from the headless commands:");
        output.WriteLine();
        output.WriteLine("  mogplex repos list                     repositories you can start runs on");
        output.WriteLine("  mogplex run --repo <id> \"<prompt>\"     start a run");
        output.WriteLine("  mogplex runs list                      your runs, newest first");
        output.WriteLine("  mogplex runs events <id> --follow      tail a run live");
        output.WriteLine("  mogplex sandboxes list                 sandboxes");
        if (hint is not null)
        {
            output.WriteLine();
            output.WriteLine($"'{Text.OneLine(args[0])}' is not a command; did you mean 'mogplex {hint}'?");
        }

        output.WriteLine();
        output.WriteLine("Press q (or Esc, or Ctrl+C) to quit.");
        output.Flush();
        while (terminal.ReadKey(CancellationToken.None) is { } key)
        {
            if (key.Key is ConsoleKey.Q or ConsoleKey.Escape || (key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control)))
            {
                break;
            }
        }

        return ExitCodes.Success;
    }
}
