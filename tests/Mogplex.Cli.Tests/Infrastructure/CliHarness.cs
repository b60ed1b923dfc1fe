using Mogplex.Client;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>
/// One test's CLI: an environment (a token and a private HOME by default), a strict HTTP stub, a
/// fake clock and a fake terminal. <see cref="RunAsync"/> runs <c>mogplex &lt;args&gt;</c> in
/// process, then checks that every stub was used, nothing unexpected was requested, and no token
/// appears in anything the CLI printed.
/// </summary>
public sealed class CliHarness : IDisposable
{
    /// <summary>The bound on every wait in these tests (they finish in milliseconds; this only turns a hang into a failure).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public const string Token = "mog_EnvTokenAbcdefghijklmnop0123456789";

    private readonly List<ServerAddress> _addresses = [];

    public CliHarness()
    {
        Home = Directory.CreateTempSubdirectory("mogplex-cli-tests-").FullName;
        Env = new(StringComparer.Ordinal)
        {
            ["MOGPLEX_API_KEY"] = Token,
            // A private, empty home: the developer's real ~/.mogplex is never read.
            ["HOME"] = Home,
        };
        Secrets.Add(Token);
    }

    public Dictionary<string, string?> Env { get; }

    /// <summary>A temporary folder that is this test's HOME.</summary>
    public string Home { get; }

    public StubHttpHandler Http { get; } = new();

    public TestClock Clock { get; } = new();

    /// <summary>Strings that must never appear in the CLI's output (tokens).</summary>
    public List<string> Secrets { get; } = [];

    public bool StdoutIsTerminal { get; set; }

    /// <summary>Piped stdin content, or null for a terminal on stdin.</summary>
    public string? Stdin { get; set; }

    /// <summary>Advance the clock whenever the CLI waits on a short timer (poll interval, reconnect back-off).</summary>
    public bool AdvanceShortTimers { get; set; } = true;

    public TimeSpan? ReconnectPatience { get; set; }

    /// <summary>
    /// Silence after which a stream counts as dropped (fake clock). Default: longer than the
    /// short-timer cap, so advancing short timers never cuts a stream a test is feeding.
    /// </summary>
    public TimeSpan? StreamIdleLimit { get; set; }

    /// <summary>The terminal of the last invocation.</summary>
    public FakeTerminal Terminal { get; private set; } = new();

    /// <summary>The addresses the CLI built its HTTP client for.</summary>
    public IReadOnlyList<ServerAddress> Addresses => _addresses;

    public RecordedRequest SingleRequest => Assert.Single(Http.Requests);

    /// <summary>Starts <c>mogplex &lt;args&gt;</c>; finish with <see cref="Running.CompleteAsync"/>.</summary>
    public Running Start(params string[] args)
    {
        Terminal = new FakeTerminal(StdoutIsTerminal, Stdin);
        var context = new CliContext(Terminal, name => Env.GetValueOrDefault(name), Clock, address =>
        {
            _addresses.Add(address);
            return Http;
        })
        {
            ReconnectPatience = ReconnectPatience ?? TimeSpan.FromSeconds(30),
            StreamIdleLimit = StreamIdleLimit ?? TimeSpan.FromMinutes(10),
        };
        var task = Task.Run(() => CliApp.RunAsync(args, context, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        return new Running(this, context, task);
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var running = Start(args);
        if (AdvanceShortTimers)
        {
            await Clock.AdvanceShortTimersUntilAsync(running.Task, TimeSpan.FromMinutes(1));
        }

        return await running.CompleteAsync();
    }

    /// <summary>Writes <c>auth.json</c> into <paramref name="folder"/> (created) and returns its path.</summary>
    public static string WriteAuthFile(string folder, string content)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "auth.json");
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is harmless.
        }
    }

    /// <summary>An invocation in progress.</summary>
    public sealed class Running(CliHarness cli, CliContext context, Task<int> task)
    {
        public Task<int> Task { get; } = task;

        public async Task<CliResult> CompleteAsync()
        {
            int exit;
            try
            {
                exit = await Task.WaitAsync(Deadline, TestContext.Current.CancellationToken);
            }
            finally
            {
                context.Dispose();
            }

            var result = new CliResult(exit, cli.Terminal.StdoutText, cli.Terminal.StderrText);
            cli.Http.Verify();
            foreach (var secret in cli.Secrets)
            {
                Assert.False(result.Stdout.Contains(secret, StringComparison.Ordinal), $"a token was printed on stdout:\n{result}");
                Assert.False(result.Stderr.Contains(secret, StringComparison.Ordinal), $"a token was printed on stderr:\n{result}");
            }

            return result;
        }
    }
}
