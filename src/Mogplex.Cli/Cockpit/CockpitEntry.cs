using System.Runtime.InteropServices;
using Hex1b;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Cockpit;

/// <summary>
/// <c>mogplex</c> with anything but a headless command (cockpit.md, Dispatch). Without a terminal
/// on stdout it explains itself and exits 2 (a script never hangs on a screen). The stdio
/// transport (<c>--events=jsonl</c>, <c>MOGPLEX_TRANSPORT=stdio</c>, or a piped stdin) replays
/// JSONL with keys from <c>/dev/tty</c>. The process and daemon transports are not built yet:
/// that case still gets <see cref="CockpitPlaceholder"/>, which says so.
/// </summary>
public static class CockpitEntry
{
    public static async Task<int> RunAsync(CliContext context, string[] args, CancellationToken ct)
    {
        var terminal = context.Terminal;
        var stdio = args.Contains("--events=jsonl") || context.Environment("MOGPLEX_TRANSPORT") == "stdio" || terminal.IsInputRedirected;
        if (!terminal.IsOutputTerminal || !stdio || terminal is not ConsoleTerminal || OperatingSystem.IsWindows())
        {
            return CockpitPlaceholder.Run(context, args);
        }

        var events = TtyInput.SwapStdin();
        if (events is null)
        {
            terminal.Stderr.WriteLine("error: the replay needs a terminal to read keys from (/dev/tty could not be opened)");
            return ExitCodes.Usage;
        }

        await using var transport = new StdioTransport(events);
        return await RunAsync(transport, context.Time, ct);
    }

    /// <summary>The cockpit on the real terminal until quit; SIGTERM and SIGHUP end it the same way (the terminal restored).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<int> RunAsync(ICockpitTransport transport, TimeProvider time, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        await using var screen = new UnixTerminalPresentation();
        var app = new CockpitApp(transport, time, () => screen.Height);
        await app.RunAsync(Hex1bTerminal.CreateBuilder().WithPresentation(screen), stop.Token);
        return ExitCodes.Success;

        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }
    }
}
