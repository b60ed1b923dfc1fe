using System.Diagnostics;
using System.Text;

namespace Mogplex.Server.Repos;

/// <summary>
/// Runs git with an argument list (never through a shell) and a clean, non-interactive environment.
/// Every call is hardened (defence in depth, docs/security.md): no system or global configuration of
/// the server user is read, no attributes file, hooks or file-system monitor, no submodule recursion,
/// and only the transports a source may use (file, git, http, https, ssh; never <c>ext::</c>/<c>fd::</c>).
/// </summary>
public static class Git
{
    /// <summary>
    /// The transports a server git call may use (<c>GIT_ALLOW_PROTOCOL</c>, which wins over any
    /// git configuration). Not <c>ext::</c> (runs a command), <c>fd::</c> or other remote helpers:
    /// a repo's source comes from an operator command or a record, never a way to run a program.
    /// </summary>
    public const string AllowedProtocols = "file:git:http:https:ssh";

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>The <c>-c</c> settings every server git call starts with.</summary>
    public static readonly IReadOnlyList<string> HardenedConfig =
    [
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "core.attributesFile=/dev/null",
        "-c", "submodule.recurse=false",
        "-c", "protocol.allow=never",
        "-c", "protocol.file.allow=always",
        "-c", "protocol.git.allow=always",
        "-c", "protocol.http.allow=always",
        "-c", "protocol.https.allow=always",
        "-c", "protocol.ssh.allow=always",
    ];

    /// <summary>The environment every server git call gets on top of the inherited one.</summary>
    public static readonly IReadOnlyDictionary<string, string> HardenedEnvironment = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_ASKPASS"] = "true",
        ["GIT_ALLOW_PROTOCOL"] = AllowedProtocols,
        ["LC_ALL"] = "C",
    };

    /// <summary>
    /// Whether git would read <paramref name="value"/> as an option. A value from an operator or
    /// an API user that reaches a git command line is refused when this is true, and goes after
    /// <c>--</c> where the command takes one.
    /// </summary>
    public static bool LooksLikeOption(string value) => value.StartsWith('-');

    public static async Task<Result> RunAsync(IReadOnlyList<string> args, string? workingDirectory, CancellationToken ct, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in HardenedConfig.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var name in psi.Environment.Keys.Where(IsSteering).ToList())
        {
            // GIT_DIR, GIT_CONFIG_PARAMETERS, GIT_EXEC_PATH ... of the server's own environment never
            // steer a server git call; the operator's transport settings (GIT_SSH_COMMAND, GIT_SSL_*) stay.
            psi.Environment.Remove(name);
        }

        foreach (var (k, v) in HardenedEnvironment)
        {
            psi.Environment[k] = v;
        }

        return await RunProcessAsync(psi, ct, timeout);
    }

    /// <summary>
    /// Runs a prepared process (streams redirected, no shell) with an empty stdin, reads both
    /// outputs whole, and kills its whole tree when <paramref name="ct"/> or the timeout (default
    /// 10 minutes) ends it first.
    /// </summary>
    public static async Task<Result> RunProcessAsync(ProcessStartInfo psi, CancellationToken ct, TimeSpan? timeout = null)
    {
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{psi.FileName} could not be started");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static bool IsSteering(string name) =>
        name.StartsWith("GIT_", StringComparison.Ordinal)
        && !name.StartsWith("GIT_SSH", StringComparison.Ordinal)
        && !name.StartsWith("GIT_SSL_", StringComparison.Ordinal)
        && !name.StartsWith("GIT_HTTP_", StringComparison.Ordinal);

    /// <summary>Throws with git's own message when the command failed.</summary>
    public static async Task<string> RunCheckedAsync(IReadOnlyList<string> args, string? workingDirectory, CancellationToken ct)
    {
        var result = await RunAsync(args, workingDirectory, ct);
        return Checked(result, args);
    }

    /// <summary>The output of a command that succeeded; else throws with git's own message.</summary>
    public static string Checked(Result result, IReadOnlyList<string> args)
    {
        if (result.ExitCode != 0)
        {
            // Name the command without its paths and URLs (a URL may carry credentials).
            var message = new StringBuilder("git ").AppendJoin(' ', args.Where(a => !a.Contains('/', StringComparison.Ordinal)))
                .Append(" failed: ").Append(result.StdErr.Trim()).ToString();
            throw new InvalidOperationException(message);
        }

        return result.StdOut;
    }
}
