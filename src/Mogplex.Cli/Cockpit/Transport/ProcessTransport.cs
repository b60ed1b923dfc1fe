using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Client;
using Mogplex.Client.Streaming;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// The default in a git repository (cockpit.md, Transports): a private <c>mogplexd</c> for the
/// repository the cockpit was started in. Its data folder is
/// <c>$MOGPLEX_HOME/local/&lt;repo-slug&gt;/</c> (0700); on first use a token (<c>cockpit.token</c>,
/// 0600) and the repository (<c>repo add &lt;git toplevel&gt;</c>, <c>cockpit.repo</c>) are made
/// with the server's own operator commands, nothing by hand. The server listens on its
/// owner-only socket only, started in a session of its own (it outlives the cockpit when a run
/// is still going; the next cockpit in that repository finds it on the socket and reattaches).
/// On quit it is stopped unless a run is still going. Everything else is the daemon transport.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ProcessTransport : ICockpitTransport, IDiffSource
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly DaemonTransport _inner;
    private readonly MogplexClient _client;
    private readonly string _data;

    private ProcessTransport(DaemonTransport inner, MogplexClient client, string data, string projectSlug) =>
        (_inner, _client, _data, ProjectSlug) = (inner, client, data, projectSlug);

    public string Name => "process";

    /// <summary>The slug of the repository this server is for (its permissions file is <c>projects/&lt;slug&gt;/</c>).</summary>
    public string ProjectSlug { get; }

    /// <summary>Finds or starts the repository's server (provisioning it on first use); the reason it could not, otherwise.</summary>
    public static async Task<(ProcessTransport? Transport, string? Error)> OpenAsync(CliContext context, CancellationToken ct)
    {
        var top = await RunAsync("git", ["rev-parse", "--show-toplevel"], ct);
        if (top.Code != 0 || top.Out.Trim().Length == 0)
        {
            return (null, "the cockpit starts a private mogplexd for the git repository you are in, and this folder is not in one; cd into a repository, or set MOGPLEX_URL to use a running mogplexd");
        }

        var repo = top.Out.Trim();
        var data = Path.Combine(context.Settings.Home(), "local", Slug(repo));
        Directory.CreateDirectory(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var server = Server(context);
        var token = await ProvisionAsync(Path.Combine(data, "cockpit.token"), server, ["--data-dir", data, "token", "create", "--name", "cockpit"], ct);
        var repoId = await ProvisionAsync(Path.Combine(data, "cockpit.repo"), server, ["--data-dir", data, "repo", "add", repo, "--name", "local/" + Path.GetFileName(repo)], ct);
        if ((token.Error ?? repoId.Error) is { } failed)
        {
            return (null, failed);
        }

        var socket = Path.Combine(data, "mogplexd.sock");
        var client = new MogplexClient(HttpClientFactory.Create(ServerAddress.UnixSocket(socket), $"mogplex/{VersionInfo.Version}"), ServerAddress.UnixSocket(socket), token.Value!);
        if (!await AnswersAsync(client, ct))
        {
            // sh starts it in a session of its own, its output in the data folder, and says its pid.
            var started = await RunAsync("sh", ["-c", "setsid \"$0\" serve --data-dir \"$1\" >>\"$1/mogplexd.log\" 2>&1 </dev/null & echo $!", server, data], ct);
            await File.WriteAllTextAsync(Path.Combine(data, "mogplexd.pid"), started.Out.Trim(), ct);
            var deadline = context.Time.GetUtcNow() + s_startTimeout;
            while (!await AnswersAsync(client, ct))
            {
                if (context.Time.GetUtcNow() > deadline)
                {
                    client.Dispose();
                    return (null, $"the private mogplexd did not start within {s_startTimeout.TotalSeconds:0} s (its log: {Path.Combine(data, "mogplexd.log")})");
                }

                await Task.Delay(100, ct);
            }
        }

        var follow = new FollowOptions(context.Time, context.PollInterval, context.StreamIdleLimit, context.ReconnectPatience);
        return (new ProcessTransport(new DaemonTransport(client, follow, attachRunId: null, repoId.Value), client, data, Slug(repo)), null);
    }

    public IAsyncEnumerable<CockpitEvent> ReadAsync(CancellationToken ct) => _inner.ReadAsync(ct);

    public Task<string?> SendAsync(CockpitCommand command, CancellationToken ct) => _inner.SendAsync(command, ct);

    public Task<RunDiffAnswer> DiffAsync(string runId, CancellationToken ct) => _inner.DiffAsync(runId, ct);

    /// <summary>Stops the server unless a run is still going (then the next cockpit reattaches).</summary>
    public async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var list = await _client.Runs.ListAsync(repoId: null, status: null, limit: DaemonTransport.MaxRuns, cursor: null, timeout.Token);
            var going = list is { } runs && runs.Runs.Any(r => r.Status is { } s && !RunStatuses.IsTerminal(s));
            if (!going && int.TryParse(await File.ReadAllTextAsync(Path.Combine(_data, "mogplexd.pid"), timeout.Token), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                using var server = Process.GetProcessById(pid);
                if (server.ProcessName == "mogplexd")
                {
                    await RunAsync("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)], CancellationToken.None);
                }
            }
        }
        catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or IOException or ArgumentException or InvalidOperationException or OperationCanceledException)
        {
            // Not reachable or not ours any more: nothing to stop.
        }

        _client.Dispose();
    }

    /// <summary>The folder name for a repository: its name and a hash of its path (two repositories of one name stay apart).</summary>
    public static string Slug(string repo) => Files.CockpitHome.Slug(repo);

    /// <summary><c>MOGPLEXD_PATH</c>, else <c>mogplexd</c> beside this executable, else on PATH.</summary>
    private static string Server(CliContext context)
    {
        if (context.Environment("MOGPLEXD_PATH") is { Length: > 0 } configured)
        {
            return configured;
        }

        var beside = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? ".", "mogplexd");
        return File.Exists(beside) ? beside : "mogplexd";
    }

    /// <summary>The value in <paramref name="file"/>, made by <paramref name="server"/> with <paramref name="args"/> (and kept, 0600) when the file is not there yet.</summary>
    private static async Task<(string? Value, string? Error)> ProvisionAsync(string file, string server, string[] args, CancellationToken ct)
    {
        if (File.Exists(file))
        {
            return ((await File.ReadAllTextAsync(file, ct)).Trim(), null);
        }

        var made = await RunAsync(server, args, ct);
        if (made.Code != 0 || made.Out.Trim().Length == 0)
        {
            return (null, $"could not set up the private mogplexd ({string.Join(' ', args.Skip(2).Take(2))}): {Terminal.Text.OneLine(made.Err.Trim())}");
        }

        await using (var stream = new FileStream(file, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteAsync(made.Out.Trim());
        }

        return (made.Out.Trim(), null);
    }

    private static async Task<bool> AnswersAsync(MogplexClient client, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.Runs.ListAsync(repoId: null, status: null, limit: 1, cursor: null, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(string file, string[] args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var process = Process.Start(psi)!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(ct);
            var error = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return (process.ExitCode, await output, await error);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (127, "", $"{file}: {ex.Message}");
        }
    }
}
