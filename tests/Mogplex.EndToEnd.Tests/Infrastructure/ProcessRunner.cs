using System.Diagnostics;
using System.Text;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>What a finished process printed and how it exited.</summary>
public sealed record CommandResult(string FileName, IReadOnlyList<string> Args, int ExitCode, string StdOut, string StdErr)
{
    /// <summary>The command line and its output, for assertion messages.</summary>
    public override string ToString() =>
        $"{FileName} {string.Join(' ', Args)}\nexit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

/// <summary>Runs a program with an argument list (no shell), optionally feeds it stdin, captures its output, and kills it after a timeout.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // Hermetic: no configuration of the machine running the tests leaks into the server.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MOGPLEXD_", StringComparison.Ordinal) || k == "MOGPLEX_HOME").ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        psi.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        psi.Environment["GIT_TERMINAL_PROMPT"] = "0";
        // A null value removes the variable (the child must not inherit it).
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null)
            {
                psi.Environment.Remove(k);
            }
            else
            {
                psi.Environment[k] = v;
            }
        }

        return psi;
    }

    public static Task<CommandResult> RunAsync(string fileName, params string[] args) => RunAsync(fileName, args, null, null, null);

    public static async Task<CommandResult> RunAsync(
        string fileName,
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string?>? env,
        string? workingDirectory,
        TimeSpan? timeout,
        string? stdin = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var process = Process.Start(StartInfo(fileName, args, env, workingDirectory))
            ?? throw new InvalidOperationException($"{fileName} could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), TestContext.Current.CancellationToken).WaitAsync(limit, TestContext.Current.CancellationToken);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(limit, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Fail($"{fileName} {string.Join(' ', args)} did not exit within {limit.TotalSeconds:0}s\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }

        return new CommandResult(fileName, args, process.ExitCode, await stdout.WaitAsync(limit), await stderr.WaitAsync(limit));
    }

    /// <summary>Runs and asserts exit code 0; returns stdout.</summary>
    public static async Task<string> RunCheckedAsync(string fileName, IReadOnlyList<string> args, string? workingDirectory = null)
    {
        var result = await RunAsync(fileName, args, null, workingDirectory, null);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StdOut;
    }
}
