using System.Diagnostics;
using System.Globalization;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// The published <c>mogplex</c> against a broken or hostile server on 127.0.0.1 (no
/// <c>mogplexd</c>): an endless answer or an endless event-stream line ends the command with a
/// clear error and the documented exit code while its memory stays bounded (its peak resident set,
/// <c>VmHWM</c>, watched while it runs); a proxy's 502/504 page exits 69.
/// </summary>
public sealed class CliHostileServerTests : IDisposable
{
    /// <summary>The memory a command may reach against an endless answer (it reads at most 32 MiB of one).</summary>
    private const long PeakLimitBytes = 200L * 1024 * 1024;

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("mogplex-hostile-");

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public async Task EndlessJsonAnswer_ExitsOneWithAClearError_MemoryBounded()
    {
        await using var server = new HostileHttpServer(c => c.EndlessAsync(200, "OK", "application/json", "{\"ok\":true,\"data\":{\"run\":\"", "x"));

        var (exit, peak, process) = await RunWatchedAsync(server, "runs", "get", "run_1");

        Assert.True(peak < PeakLimitBytes, $"peak resident memory {peak / 1024 / 1024} MiB\n{process.StdErr}");
        Assert.True(exit == 1, $"exit {exit}\n{process.StdErr}");
        Assert.Equal("error: unexpected answer from the server: an answer larger than 32 MiB (HTTP_200)\n", process.StdErr);
        Assert.Equal("", process.StdOut);
        // It stopped reading: what got out is its 32 MiB plus what the sockets buffer, not the gigabyte on offer.
        Assert.True(server.BodyBytesSent < HostileHttpServer.EndlessBodyBytes / 4, $"{server.BodyBytesSent} bytes sent");
    }

    [Fact]
    public async Task EndlessEventStreamLine_FollowExitsOneWithAClearError_MemoryBounded()
    {
        await using var server = new HostileHttpServer(c => c.EndlessAsync(200, "OK", "text/event-stream", ": hello\n\ndata: ", "x"));

        var (exit, peak, process) = await RunWatchedAsync(server, "runs", "events", "run_1", "--follow", "--timeout", "60");

        Assert.True(peak < PeakLimitBytes, $"peak resident memory {peak / 1024 / 1024} MiB\n{process.StdErr}");
        Assert.True(exit == 1, $"exit {exit}\n{process.StdErr}");
        Assert.Equal("error: unexpected answer from the server: an event-stream line longer than 1,048,576 characters (HTTP_200)\n", process.StdErr);
        Assert.Equal(1, server.Accepted);
        Assert.True(server.BodyBytesSent < HostileHttpServer.EndlessBodyBytes / 4, $"{server.BodyBytesSent} bytes sent");
    }

    [Theory]
    [InlineData(502, "Bad Gateway")]
    [InlineData(504, "Gateway Time-out")]
    public async Task ProxyGatewayErrorPage_Exits69(int status, string reason)
    {
        var page = $"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        await using var server = new HostileHttpServer(c => c.AnswerAsync(status, reason, "text/html", page));

        var result = await Cli(server).RunAsync("repos", "list", "--json");

        Assert.Equal(69, result.ExitCode);
        Assert.Equal($"error: unexpected answer from the server: HTTP {status} {reason} (HTTP_{status})\n", result.StdErr);
        Assert.Equal("", result.StdOut);
    }

    private MogplexCli Cli(HostileHttpServer server) =>
        new MogplexCli(_home.FullName, server.Url, "mog_HostileTestTokenAbcdefghijklmnop01").With("MOGPLEX_DEV", "1");

    /// <summary>
    /// Runs the CLI, reading its peak resident memory (<c>VmHWM</c>) from <c>/proc</c> until it exits;
    /// one past the limit is killed at once (an unbounded reader would otherwise take the machine's memory).
    /// </summary>
    private async Task<(int Exit, long PeakBytes, BackgroundProcess Process)> RunWatchedAsync(HostileHttpServer server, params string[] args)
    {
        var process = Cli(server).Start(args);
        var peak = 0L;
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < s_wait)
        {
            peak = Math.Max(peak, PeakResidentBytes(process.Pid));
            if (peak >= PeakLimitBytes)
            {
                break;
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        if (!process.HasExited)
        {
            await process.DisposeAsync();
            return (-1, peak, process);
        }

        var exit = await process.WaitForExitAsync(s_wait);
        await process.DisposeAsync();
        return (exit, peak, process);
    }

    /// <summary><c>VmHWM</c> of a running process, 0 once it is gone.</summary>
    private static long PeakResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
