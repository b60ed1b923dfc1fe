using Mogplex.Cli.Configuration;
using Mogplex.Cli.Terminal;
using Mogplex.Client;

namespace Mogplex.Cli;

/// <summary>
/// What every command gets: the terminal, the environment, a clock, and a <em>lazy</em> client (so
/// <c>--help</c> and usage errors never read the token or touch the network).
/// </summary>
public sealed class CliContext : IDisposable
{
    private readonly Func<ServerAddress, HttpMessageHandler?> _handlerFactory;
    private MogplexClient? _client;

    public CliContext(ITerminal terminal, Func<string, string?> environment, TimeProvider time, Func<ServerAddress, HttpMessageHandler?>? handlerFactory = null)
    {
        Terminal = terminal;
        Environment = environment;
        Time = time;
        _handlerFactory = handlerFactory ?? (_ => null);
        Settings = new CliSettings(environment, terminal.Stderr);
    }

    public ITerminal Terminal { get; }

    public Func<string, string?> Environment { get; }

    public TimeProvider Time { get; }

    public CliSettings Settings { get; }

    /// <summary>Colour only on a terminal, and only when <c>NO_COLOR</c> is unset.</summary>
    public bool UseColor => Terminal.IsOutputTerminal && string.IsNullOrEmpty(Environment("NO_COLOR"));

    /// <summary>Poll interval of <c>runs events --follow</c> against servers without the stream (cli.md: 1.5 s).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>How long the follower keeps trying to reach a server that went away before giving up (exit 69).</summary>
    public TimeSpan ReconnectPatience { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A stream silent for this long (the server sends a keep-alive every 15 s) is treated as dropped.</summary>
    public TimeSpan StreamIdleLimit { get; init; } = TimeSpan.FromSeconds(45);

    public MogplexClient Client() => Client(signedOutIsFine: false);

    /// <summary>The client; with <paramref name="signedOutIsFine"/> (the cockpit, which has a sign-in screen) a missing token gives a client without one instead of exit 64.</summary>
    public MogplexClient Client(bool signedOutIsFine)
    {
        if (_client is null)
        {
            var address = Settings.Address();
            string token;
            try
            {
                token = Settings.Token();
            }
            catch (ExitCodeException ex) when (signedOutIsFine && ex.ExitCode == ExitCodes.Unauthorized && ex.Message == CliSettings.NotAuthenticated)
            {
                token = "";
            }

            if (Settings.TokenIssuedFor is { } issued && !SameServer(issued, address.Display))
            {
                // Not an error (a token may be valid on several servers), but worth a line: the
                // saved sign-in was for another server than the one this command talks to.
                Terminal.Stderr.WriteLine($"warning: the token in auth.json was issued for {issued}; sending it to {address.Display} (MOGPLEX_URL)");
            }

            var http = HttpClientFactory.Create(address, $"mogplex/{VersionInfo.Version}", _handlerFactory(address));
            _client = new MogplexClient(http, address, token);
        }

        return _client;
    }

    private static bool SameServer(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    public void Dispose() => _client?.Dispose();
}
