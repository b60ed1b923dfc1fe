using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The published <c>mogplexd</c> binary, driven as an operator would: one temp folder per instance
/// (the data folder is <c>&lt;root&gt;/data</c>, created by mogplexd itself), operator commands
/// against it, and <c>serve</c> processes on 127.0.0.1 and the data folder's Unix socket.
/// Disposing kills any server still running and deletes the folder.
/// </summary>
public sealed class MogplexdProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The host's shutdown timeout is 15 s; a stop gets that plus a margin.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(25);

    private static readonly Lazy<string> s_binary = new(LocateBinary);
    private readonly List<ServerProcess> _servers = [];
    private readonly List<Action> _cleanups = [];

    public MogplexdProcess()
    {
        RootDir = Directory.CreateTempSubdirectory("mogplex-e2e-").FullName;
        DataDir = Path.Combine(RootDir, "data");
    }

    /// <summary>Path of the published <c>mogplexd</c>; fails the test with instructions when it is missing.</summary>
    public static string BinaryPath => s_binary.Value;

    public string RootDir { get; }

    /// <summary>
    /// Runs <c>serve</c> as this uid (the test is root): the folder is handed to it first
    /// (<see cref="GiveToRunAsUser"/>) and the server starts from a copy of the published binaries
    /// that uid can reach.
    /// </summary>
    public int? RunAsUid { get; set; }

    /// <summary>Makes the test's folder (data folder, sources) the <see cref="RunAsUid"/> user's.</summary>
    public void GiveToRunAsUser()
    {
        var chown = System.Diagnostics.Process.Start("chown", ["-R", $"{RunAsUid}:{RunAsUid}", RootDir])!;
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }

    private string CopyOfBinary()
    {
        var dir = Path.Combine(RootDir, "bin");
        if (!Directory.Exists(dir))
        {
            var copy = System.Diagnostics.Process.Start("cp", ["-a", "--", Path.GetDirectoryName(BinaryPath)!, dir])!;
            copy.WaitForExit();
            Assert.Equal(0, copy.ExitCode);
            File.SetUnixFileMode(RootDir, (UnixFileMode)0b111_101_101);
            var chmod = System.Diagnostics.Process.Start("chmod", ["-R", "a+rX", dir])!;
            chmod.WaitForExit();
        }

        return Path.Combine(dir, Path.GetFileName(BinaryPath));
    }

    public string DataDir { get; }

    public string DatabasePath => Path.Combine(DataDir, "mogplex.db");

    /// <summary>An operator command on this data folder (<c>--data-dir</c> is appended).</summary>
    public Task<CommandResult> RunAsync(params string[] args) => RunAsync(args, env: null);

    public Task<CommandResult> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(BinaryPath, [.. args, "--data-dir", DataDir], env, RootDir, timeout);

    /// <summary>An operator command as the <see cref="RunAsUid"/> user.</summary>
    public Task<CommandResult> RunAsUserAsync(params string[] args) =>
        ProcessRunner.RunAsync("setpriv", [$"--reuid={RunAsUid}", $"--regid={RunAsUid}", "--clear-groups", "--", CopyOfBinary(), .. args, "--data-dir", DataDir], null, RootDir, null);

    /// <summary>Runs an operator command, asserts exit code 0, returns stdout.</summary>
    public async Task<string> RunCheckedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StdOut;
    }

    /// <summary><c>mogplexd token create</c>: the plaintext token.</summary>
    public async Task<string> CreateTokenAsync(string name = "e2e", string scopes = "read,write") =>
        (await RunCheckedAsync("token", "create", "--name", name, "--scopes", scopes)).Trim();

    /// <summary>Starts <c>mogplexd serve</c> on a free 127.0.0.1 port (and the Unix socket) and waits for /healthz.</summary>
    public async Task<ServerProcess> StartServerAsync(IReadOnlyDictionary<string, string?>? env = null, params string[] extraArgs)
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            string[] serve = ["serve", "--data-dir", DataDir, "--listen", $"http://127.0.0.1:{port}", .. extraArgs];
            var server = RunAsUid is { } uid
                ? ServerProcess.Start("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--", CopyOfBinary(), .. serve], env, RootDir, port, DataDir)
                : ServerProcess.Start(BinaryPath, serve, env, RootDir, port, DataDir);
            _servers.Add(server);
            var started = await server.WaitUntilHealthyAsync(StartTimeout);
            if (started)
            {
                return server;
            }

            // Another process may have taken the port between our probe and the server's bind.
            var lostPortRace = server.StdErr.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
            if (!lostPortRace || attempt == attempts)
            {
                Assert.Fail($"mogplexd serve did not become healthy (exit {server.ExitCodeOrNull?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})\n--- stderr\n{server.StdErr}\n--- stdout\n{server.StdOut}");
            }
        }
    }

    /// <summary>Something to undo once the servers stopped (e.g. control groups made for them).</summary>
    public void OnDispose(Action cleanup) => _cleanups.Add(cleanup);

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        foreach (var cleanup in _cleanups)
        {
            cleanup();
        }

        try
        {
            Directory.Delete(RootDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A port that was free a moment ago (bind port 0, read it, release it).</summary>
    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string LocateBinary()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MOGPLEX_BIN_DIR");
        string dir;
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            dir = fromEnv;
        }
        else
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "mogplex.slnx")))
            {
                root = root.Parent;
            }

            Assert.True(root is not null, $"cannot find the repository root (a folder with mogplex.slnx) above {AppContext.BaseDirectory}; set MOGPLEX_BIN_DIR to the folder holding mogplexd");
            dir = Path.Combine(root!.FullName, "artifacts", "bin");
        }

        var path = Path.Combine(dir, "mogplexd");
        Assert.True(File.Exists(path), $"the published server binary {path} is missing: run ./build.sh first (or set MOGPLEX_BIN_DIR)");
        return path;
    }
}

/// <summary>A running <c>mogplexd serve</c>: its addresses, captured output, and a graceful stop (SIGTERM).</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly BackgroundProcess _process;

    private ServerProcess(BackgroundProcess process, int port, string dataDir)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        SocketPath = Path.Combine(dataDir, "mogplexd.sock");
    }

    public Uri BaseAddress { get; }

    public string SocketPath { get; }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public int? ExitCodeOrNull => _process.ExitCodeOrNull;

    /// <summary>Everything the server wrote to stderr so far (its JSON log lines).</summary>
    public string StdErr => _process.StdErr;

    public string StdOut => _process.StdOut;

    internal static ServerProcess Start(string binary, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env, string workingDirectory, int port, string dataDir) =>
        new(BackgroundProcess.Start(binary, args, env, workingDirectory), port, dataDir);

    /// <summary>A client for the TCP listener.</summary>
    public HttpClient CreateClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>
    /// Waits (woken by each stderr line or the exit) until this process logs that it listens on its
    /// port, then polls GET /healthz until 200. The log line comes first because the port was only
    /// free a moment ago: another test's server may hold it, and its /healthz would answer too.
    /// </summary>
    internal async Task<bool> WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var listening = $"{BaseAddress.ToString().TrimEnd('/')} (data "; // end of "mogplexd <version> listening on <addresses> (data ..."
        if (!await _process.WaitUntilAsync((_, stderr) => stderr.Contains(listening, StringComparison.Ordinal), timeout))
        {
            // Exited, or still running after its deadline: the caller reports it; Dispose kills it.
            await _process.TryWaitForExitAsync(TimeSpan.FromSeconds(5));
            return false;
        }

        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (deadline.Elapsed < timeout && !_process.HasExited)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not ready yet.
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                // The 2 s per-attempt timeout; try again.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), TestContext.Current.CancellationToken);
        }

        return false;
    }

    /// <summary>Sends SIGTERM (the graceful stop an init system sends) and waits, bounded, for the exit code.</summary>
    public async Task<int> StopAsync()
    {
        await SignalAsync("TERM");
        return await WaitForExitAsync(MogplexdProcess.StopTimeout);
    }

    /// <summary>Sends a signal with <c>kill</c> (<see cref="Process.Kill()"/> would be SIGKILL).</summary>
    public async Task SignalAsync(string signal)
    {
        // Never signal a pid this process no longer owns (pids are reused).
        Assert.False(_process.HasExited, $"mogplexd (pid {Pid}) already exited with {ExitCodeOrNull}\n--- stderr\n{StdErr}");
        var result = await ProcessRunner.RunAsync("kill", "-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public Task<int> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
