namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The published <c>mogplex</c> CLI (beside <c>mogplexd</c>), run as a script or a CI job runs it:
/// no terminal, and an environment this class controls. <c>HOME</c> and <c>MOGPLEX_HOME</c> point
/// into the given folder; <c>MOGPLEX_URL</c> and <c>MOGPLEX_API_KEY</c> are set only as given;
/// whatever the machine running the tests has of the CLI's other settings (<c>MOGPLEX_DEV</c>,
/// <c>CODEX_HOME</c>, <c>NODE_ENV</c>, <c>NO_COLOR</c>) is removed. Instances are immutable:
/// <see cref="With"/> returns a copy with one variable changed.
/// </summary>
public sealed class MogplexCli
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> s_binary = new(LocateBinary);
    private readonly Dictionary<string, string?> _env;

    /// <param name="home">A folder of the test's own: <c>HOME</c>; <c>MOGPLEX_HOME</c> is its <c>.mogplex</c> (not created).</param>
    /// <param name="url">The value of <c>MOGPLEX_URL</c>, or null to leave it unset.</param>
    /// <param name="token">The value of <c>MOGPLEX_API_KEY</c>, or null to leave it unset.</param>
    public MogplexCli(string home, string? url, string? token)
    {
        Directory.CreateDirectory(home);
        _env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["HOME"] = home,
            ["MOGPLEX_HOME"] = Path.Combine(home, ".mogplex"),
            ["MOGPLEX_URL"] = url,
            ["MOGPLEX_API_KEY"] = token,
            ["MOGPLEX_DEV"] = null,
            ["CODEX_HOME"] = null,
            ["NODE_ENV"] = null,
            ["NO_COLOR"] = null,
        };
    }

    private MogplexCli(Dictionary<string, string?> env) => _env = env;

    /// <summary>Path of the published <c>mogplex</c>; fails the test with instructions when it is missing.</summary>
    public static string BinaryPath => s_binary.Value;

    /// <summary>The folder holding both published binaries (what a user puts on PATH).</summary>
    public static string BinDirectory => Path.GetDirectoryName(BinaryPath)!;

    /// <summary>The repository's root (the folder with <c>mogplex.slnx</c>) above the test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "mogplex.slnx")))
            {
                root = root.Parent;
            }

            Assert.True(root is not null, $"cannot find the repository root (a folder with mogplex.slnx) above {AppContext.BaseDirectory}");
            return root!.FullName;
        }
    }

    /// <summary>The environment the CLI gets on top of the test process's (null: removed).</summary>
    public IReadOnlyDictionary<string, string?> Environment => _env;

    /// <summary><c>$MOGPLEX_HOME</c> (or null when this instance unset it).</summary>
    public string? MogplexHome => _env["MOGPLEX_HOME"];

    /// <summary>A CLI talking to <paramref name="server"/> over its Unix socket (<c>MOGPLEX_URL=unix:...</c>).</summary>
    public static MogplexCli ForSocket(ServerProcess server, string token, string home) =>
        new(home, "unix:" + server.SocketPath, token);

    /// <summary>A copy with one variable set (null: removed).</summary>
    public MogplexCli With(string name, string? value) => new(new Dictionary<string, string?>(_env, StringComparer.Ordinal) { [name] = value });

    public Task<CommandResult> RunAsync(params string[] args) => RunAsync(args, stdin: null);

    /// <summary>Runs <c>mogplex</c> to its exit (bounded); <paramref name="stdin"/> is piped in when set, else stdin is empty.</summary>
    public Task<CommandResult> RunAsync(IReadOnlyList<string> args, string? stdin, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(BinaryPath, args, _env, System.IO.Path.GetTempPath(), timeout ?? DefaultTimeout, stdin);

    /// <summary>Runs, asserts exit 0 and nothing on stderr; returns stdout.</summary>
    public async Task<string> RunCheckedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        return result.StdOut;
    }

    /// <summary>Starts <c>mogplex</c> and leaves it running (a follower); its output can be awaited.</summary>
    public BackgroundProcess Start(params string[] args) => BackgroundProcess.Start(BinaryPath, args, _env, System.IO.Path.GetTempPath());

    private static string LocateBinary()
    {
        var path = Path.Combine(Path.GetDirectoryName(MogplexdProcess.BinaryPath)!, "mogplex");
        Assert.True(File.Exists(path), $"the published CLI binary {path} is missing: run ./build.sh first (or set MOGPLEX_BIN_DIR)");
        return path;
    }
}
