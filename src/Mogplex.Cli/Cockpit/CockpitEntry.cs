using System.Runtime.InteropServices;
using Hex1b;
using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Cockpit;

/// <summary>
/// <c>mogplex</c> with anything but a headless command (cockpit.md, Dispatch). Without a terminal
/// on stdout it explains itself and exits 2 (a script never hangs on a screen). The stdio
/// transport (<c>--events=jsonl</c>, <c>MOGPLEX_TRANSPORT=stdio</c>, or a piped stdin) replays
/// JSONL with keys from <c>/dev/tty</c>; the daemon transport (<c>MOGPLEX_TRANSPORT=daemon</c>,
/// <c>--attach &lt;runId&gt;</c>, <c>MOGPLEX_ATTACH_RUN_ID</c>, or <c>MOGPLEX_URL</c> set) talks to a
/// running <c>mogplexd</c> with the usual credentials; otherwise (the default) the process
/// transport starts a private <c>mogplexd</c> for the git repository the cockpit is in.
/// </summary>
public static class CockpitEntry
{
    public static async Task<int> RunAsync(CliContext context, string[] args, CancellationToken ct)
    {
        var terminal = context.Terminal;
        if (args.Length > 0 && !args[0].StartsWith('-') && terminal is ConsoleTerminal && terminal.IsOutputTerminal)
        {
            // A word that is not a command is a typo far more often than a wish for the cockpit.
            var hint = Suggestions.Closest(args[0], CliApp.Subcommands);
            terminal.Stderr.WriteLine($"error: '{Text.OneLine(args[0])}' is not a command{(hint is null ? "" : $"; did you mean 'mogplex {hint}'?")} (mogplex with no command opens the cockpit)");
            return ExitCodes.Usage;
        }

        // The daemon's Unix socket (MOGPLEX_DAEMON_SOCKET) is the same as MOGPLEX_URL=unix:<path>; MOGPLEX_URL wins.
        var environment = context.Environment;
        using var socketContext = NullIfEmpty(environment("MOGPLEX_URL")) is null && NullIfEmpty(environment("MOGPLEX_DAEMON_SOCKET")) is { } socket
            ? new CliContext(terminal, name => name == "MOGPLEX_URL" ? "unix:" + socket : environment(name), context.Time)
            {
                PollInterval = context.PollInterval,
                ReconnectPatience = context.ReconnectPatience,
                StreamIdleLimit = context.StreamIdleLimit,
            }
            : null;
        context = socketContext ?? context;

        var chosen = context.Environment("MOGPLEX_TRANSPORT");
        var attach = Attach(args) ?? NullIfEmpty(context.Environment("MOGPLEX_ATTACH_RUN_ID"));
        var stdio = args.Contains("--events=jsonl") || chosen == "stdio" || (terminal.IsInputRedirected && chosen is null or "");
        var daemon = !stdio && (chosen == "daemon" || attach is not null || NullIfEmpty(context.Environment("MOGPLEX_URL")) is not null);
        var process = !stdio && !daemon && chosen is null or "" or "process" or "live";
        if (!terminal.IsOutputTerminal || !(stdio || daemon || process) || terminal is not ConsoleTerminal || OperatingSystem.IsWindows())
        {
            return CockpitPlaceholder.Run(context, args);
        }

        if (args.Contains("--logout"))
        {
            // Forget the stored token, then start (without a terminal nothing happens: exit 2 above).
            // The daemon transport opens on its sign-in line.
            _ = AuthFile.Remove(context.Settings.Home());
        }

        if (process)
        {
            var (local, error) = await ProcessTransport.OpenAsync(context, ct);
            if (local is null)
            {
                terminal.Stderr.WriteLine("error: " + error);
                return ExitCodes.Unavailable;
            }

            await using (local)
            {
                var slug = local.ProjectSlug;
                return await RunAsync(local, context.Time, ct, Home(context, () => slug));
            }
        }

        if (daemon)
        {
            var follow = new Mogplex.Client.Streaming.FollowOptions(context.Time, context.PollInterval, context.StreamIdleLimit, context.ReconnectPatience);
            await using var remote = new DaemonTransport(context.Client(signedOutIsFine: true), follow, attach, NullIfEmpty(context.Environment("MOGPLEX_REPO_ID")));
            return await RunAsync(remote, context.Time, ct, Home(context, () => CockpitHome.SlugOf(Environment.CurrentDirectory)));
        }

        var events = TtyInput.SwapStdin();
        if (events is null)
        {
            terminal.Stderr.WriteLine("error: the replay needs a terminal to read keys from (/dev/tty could not be opened)");
            return ExitCodes.Usage;
        }

        await using var transport = new StdioTransport(events);
        // A replay has no home (it starts nothing, signs nobody in); it exports to the same folder.
        return await RunAsync(transport, context.Time, ct, exports: Path.Combine(context.Settings.Home(), "exports"));
    }

    private static CockpitHome Home(CliContext context, Func<string?> slug) =>
        new(context.Settings.Home(), slug) { TokenFromEnvironment = NullIfEmpty(context.Environment("MOGPLEX_API_KEY")) is not null };

    private static string? Attach(string[] args)
    {
        var at = Array.IndexOf(args, "--attach");
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : args.FirstOrDefault(a => a.StartsWith("--attach=", StringComparison.Ordinal))?["--attach=".Length..];
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The cockpit on the real terminal until quit; SIGTERM and SIGHUP end it the same way (the terminal restored).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<int> RunAsync(ICockpitTransport transport, TimeProvider time, CancellationToken ct, CockpitHome? home = null, string? exports = null)
    {
        // The terminal's keys and a piped stdin are read with blocking reads, each holding a pool
        // thread for as long as the cockpit runs; with the pool's minimum (one per core) that left
        // nothing to draw with until the pool grew, a second later (bench/cockpit.sh: first paint).
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), io);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        await using var screen = new UnixTerminalPresentation(bell: Environment.GetEnvironmentVariable("MOGPLEX_BELL") is not ("off" or "0"));
        var app = new CockpitApp(transport, time, () => (screen.Width, screen.Height), home, screen) { ExportsFolder = exports };
        await app.RunAsync(Hex1bTerminal.CreateBuilder().WithPresentation(screen), stop.Token);
        return ExitCodes.Success;

        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }
    }
}
