using System.Diagnostics;
using System.Text;

namespace Mogplex.Server.Repos;

/// <summary>Runs git with an argument list (never through a shell) and a clean, non-interactive environment.</summary>
public static class Git
{
    /// <summary>
    /// The transports a server git call may use (<c>GIT_ALLOW_PROTOCOL</c>, which wins over any
    /// git configuration). Not <c>ext::</c> (runs a command), <c>fd::</c> or other remote helpers:
    /// a repo's source comes from an operator command or a record, never a way to run a program.
    /// </summary>
    public const string AllowedProtocols = "file:git:http:https:ssh";

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

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
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        psi.Environment["GIT_ASKPASS"] = "true";
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["GIT_ALLOW_PROTOCOL"] = AllowedProtocols;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("git could not be started");
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

    /// <summary>Throws with git's own message when the command failed.</summary>
    public static async Task<string> RunCheckedAsync(IReadOnlyList<string> args, string? workingDirectory, CancellationToken ct)
    {
        var result = await RunAsync(args, workingDirectory, ct);
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
