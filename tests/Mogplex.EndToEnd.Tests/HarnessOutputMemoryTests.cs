using System.Globalization;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// The published server reading what a hostile run prints: one 400 MB line must not take the
/// server's memory with it (Runs:MaxLineBytes, default 1 MiB).
/// </summary>
public sealed class HarnessOutputMemoryTests
{
    private const long LineBytes = 400_000_000;
    private const long AllowedGrowthKb = 100 * 1024;

    /// <summary>The peak resident set size of a process so far (VmHWM), in kB.</summary>
    private static long PeakRssKb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ExecRun_OneLineOf400MB_StoredCutWithTheMarkerAndPeakMemoryGrowsLessThan100MB()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "chatty");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        using var client = server.CreateClient(token);

        // A first run loads the engine's code and fills its pools: the reading after it is the
        // baseline, so the comparison measures the long line alone.
        var warm = await ExecRuns.StartAsync(client, repoId, "echo warm", "mem/warm");
        Assert.Equal(RunStatuses.Success, (await ExecRuns.WaitTerminalAsync(client, warm)).Status);
        var before = PeakRssKb(server.Pid);

        var runId = await ExecRuns.StartAsync(client, repoId, $"head -c {LineBytes} /dev/zero | tr '\\0' a; echo\necho after", "mem/long-line");
        var run = await ExecRuns.WaitTerminalAsync(client, runId, TimeSpan.FromMinutes(5));
        var after = PeakRssKb(server.Pid);

        Assert.True(run.Status == RunStatuses.Success, $"{run.Status}: {run.Error}");
        var output = (await ExecRuns.EventsAsync(client, runId)).Where(ExecRuns.IsOutput).ToList();
        Assert.Equal(2, output.Count);
        Assert.StartsWith($"[line truncated: {LineBytes} bytes, first 1048576 kept] aaaaaaaa", output[0].Message, StringComparison.Ordinal);
        Assert.Equal("after", output[1].Message);
        Assert.True(after - before < AllowedGrowthKb, $"mogplexd's peak RSS grew from {before} kB to {after} kB (+{(after - before) / 1024} MB)");
        Assert.Equal(0, await server.StopAsync());
    }
}
