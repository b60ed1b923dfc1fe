using System.Text.Json;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// A published <c>mogplexd</c> for CLI tests: its own data folder, a read-write token, one linked
/// repo (<c>acme/&lt;name&gt;</c>, default branch <c>trunk</c>), a server on the Unix socket and
/// 127.0.0.1, and a <see cref="MogplexCli"/> pointed at the socket. Used as a class fixture
/// (subclass it with a parameterless constructor) or directly by a test that needs a server of
/// its own. The helpers drive the CLI only, so they also exercise it.
/// </summary>
public class CliServer(IReadOnlyDictionary<string, string?>? serverEnvironment = null, string repoName = "cli", params string[] serveArgs) : IAsyncLifetime
{
    /// <summary>A <c>--follow</c> given this cap never hits it in these tests; the process gets a little more.</summary>
    public const int FollowTimeoutSeconds = 120;

    /// <summary>
    /// A class's tests make many requests and start many runs in a minute, more than the default
    /// per-token limits allow (60 requests, 10 run starts); a test that wants a limit sets its own.
    /// </summary>
    private static readonly Dictionary<string, string?> s_generousLimits = new(StringComparer.Ordinal)
    {
        ["MOGPLEXD_RateLimits__RequestsPerWindow"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerMinute"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerHour"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerDay"] = "100000",
    };

    private readonly Dictionary<string, string?> _serverEnvironment = new(s_generousLimits.Concat(serverEnvironment ?? new Dictionary<string, string?>()).GroupBy(e => e.Key).Select(g => g.Last()), StringComparer.Ordinal);
    private int _homes;

    public MogplexdProcess Mogplexd { get; } = new();

    public ServerProcess Server { get; private set; } = null!;

    /// <summary>A <c>read,write</c> token of the default user.</summary>
    public string Token { get; private set; } = "";

    public string RepoId { get; private set; } = "";

    public GitSource Source { get; private set; } = null!;

    /// <summary>The CLI on the server's Unix socket with <see cref="Token"/>.</summary>
    public MogplexCli Cli { get; private set; } = null!;

    /// <summary>The server's environment: change it before the server starts; <see cref="RestartAsync"/> uses it too.</summary>
    public IDictionary<string, string?> ServerEnvironment => _serverEnvironment;

    /// <summary>Where the server's socket is, started or not.</summary>
    public string SocketPath => Path.Combine(Mogplexd.DataDir, "mogplexd.sock");

    public virtual async ValueTask InitializeAsync()
    {
        await PrepareAsync();
        Server = await Mogplexd.StartServerAsync(_serverEnvironment, serveArgs.Length == 0 ? ["--dev"] : serveArgs);
    }

    /// <summary>Token, repo and CLI without starting the server (a test that starts it later).</summary>
    public async Task PrepareAsync()
    {
        Token = await Mogplexd.CreateTokenAsync("cli");
        (RepoId, Source) = await LinkRepoAsync(repoName);
        Cli = new MogplexCli(NewHome(), "unix:" + SocketPath, Token);
    }

    /// <summary>Starts (again) a server on the same data folder; <see cref="Server"/> is the new one.</summary>
    public async Task<ServerProcess> RestartAsync()
    {
        Server = await Mogplexd.StartServerAsync(_serverEnvironment, serveArgs.Length == 0 ? ["--dev"] : serveArgs);
        return Server;
    }

    /// <summary>A fresh folder for a CLI's HOME (its MOGPLEX_HOME is inside, not created).</summary>
    public string NewHome() => Path.Combine(Mogplexd.RootDir, $"cli-home-{Interlocked.Increment(ref _homes)}");

    /// <summary>Links one more repo (<c>acme/&lt;name&gt;</c>, default branch trunk); returns its id and source.</summary>
    public async Task<(string RepoId, GitSource Source)> LinkRepoAsync(string name)
    {
        var source = await GitSource.CreateAsync(Mogplexd.RootDir, "acme", name);
        var id = (await Mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        return (id, source);
    }

    /// <summary><c>mogplex run --repo &lt;repo&gt; --harness &lt;harness&gt; --json [extra] &lt;script&gt;</c>: the new run's id.</summary>
    public async Task<string> StartRunAsync(string script, string? repoId = null, string harness = "exec", params string[] extra)
    {
        var result = await Cli.RunAsync(["run", "--repo", repoId ?? RepoId, "--harness", harness, "--json", .. extra, script], stdin: null);
        Assert.True(result.ExitCode == 0, result.ToString());
        var run = CliOutput.SingleObject(result.StdOut);
        Assert.False(run.GetProperty("replayed").GetBoolean());
        return run.GetProperty("runId").GetString()!;
    }

    /// <summary><c>runs events &lt;id&gt; --follow [--json]</c> to the run's end; asserts exit 0 and a quiet stderr.</summary>
    public Task<CommandResult> FollowAsync(string runId, bool json = false) => FollowAsync(Cli, runId, json);

    public static async Task<CommandResult> FollowAsync(MogplexCli cli, string runId, bool json = false)
    {
        List<string> args = ["runs", "events", runId, "--follow", "--timeout", FollowTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (json)
        {
            args.Add("--json");
        }

        var result = await cli.RunAsync(args, stdin: null, TimeSpan.FromSeconds(FollowTimeoutSeconds + 30));
        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        return result;
    }

    /// <summary>Follows the run to its end and returns its final status (from the <c>--json</c> end line).</summary>
    public async Task<string> WaitForEndAsync(string runId)
    {
        var end = CliOutput.JsonLines((await FollowAsync(runId, json: true)).StdOut)[^1];
        Assert.Equal(runId, end.GetProperty("runId").GetString());
        return end.GetProperty("status").GetString()!;
    }

    /// <summary><c>runs get &lt;id&gt; --json</c>.</summary>
    public Task<JsonElement> GetRunAsync(string runId) => GetRunAsync(Cli, runId);

    public static async Task<JsonElement> GetRunAsync(MogplexCli cli, string runId) =>
        CliOutput.SingleObject(await cli.RunCheckedAsync("runs", "get", runId, "--json"));

    /// <summary><c>runs events &lt;id&gt; --json --limit 200</c>: the stored events, oldest first.</summary>
    public Task<IReadOnlyList<JsonElement>> EventsAsync(string runId) => EventsAsync(Cli, runId);

    public static async Task<IReadOnlyList<JsonElement>> EventsAsync(MogplexCli cli, string runId) =>
        CliOutput.JsonLines(await cli.RunCheckedAsync("runs", "events", runId, "--json", "--limit", "200"));

    public virtual async ValueTask DisposeAsync()
    {
        await Mogplexd.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
