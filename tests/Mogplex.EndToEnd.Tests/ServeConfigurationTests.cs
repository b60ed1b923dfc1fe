using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary><c>mogplexd serve</c> refuses bad configuration at start: a clear message and a non-zero exit, never a half-started server.</summary>
public sealed class ServeConfigurationTests
{
    [Theory]
    [InlineData("MOGPLEXD_RateLimits__RequestsPerWindow", "0", "'RequestsPerWindow' with the error: 'The field RequestsPerWindow must be between 1 and 2147483647.'")]
    [InlineData("MOGPLEXD_Sandbox__Isolation", "bogus", "'Isolation' with the error: 'Sandbox:Isolation must be auto, bwrap or none'")]
    [InlineData("MOGPLEXD_Runs__MaxDuration", "00:00:00", "Runs:MaxDuration must be positive")]
    [InlineData("MOGPLEXD_Runs__MaxConcurrentPerUser", "0", "'MaxConcurrentPerUser' with the error: 'The field MaxConcurrentPerUser must be between 1 and 4096.'")]
    [InlineData("MOGPLEXD_Storage__Provider", "mysql", "Storage:Provider 'mysql' is not supported (use sqlite or postgres)")]
    [InlineData("MOGPLEXD_Storage__Provider", "postgres", "Storage:Provider is postgres but no connection string is set: pass --postgres \"Host=...;Username=...;Password=...;Database=...\" or set Storage:Postgres")]
    public async Task Serve_InvalidEnvironmentSetting_ExitsTwoWithMessage(string variable, string value, string message)
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync(["serve"], new Dictionary<string, string?> { [variable] = value });

        AssertRejected(result, message);
    }

    [Fact]
    public async Task Serve_InvalidSettingInDataFolderFile_ExitsTwoWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();
        Directory.CreateDirectory(mogplexd.DataDir);
        await File.WriteAllTextAsync(Path.Combine(mogplexd.DataDir, "mogplexd.json"), """{"Runs": {"MaxConcurrent": 0}}""", TestContext.Current.CancellationToken);

        var result = await mogplexd.RunAsync("serve");

        AssertRejected(result, "'MaxConcurrent' with the error: 'The field MaxConcurrent must be between 1 and 256.'");
    }

    [Fact]
    public async Task Serve_NonLoopbackListenWithoutOptIn_ExitsTwoWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("serve", "--listen", "http://0.0.0.0:1234");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: --listen http://0.0.0.0:1234: plain HTTP on a non-loopback address needs --allow-insecure-http (terminate TLS in front instead)\n", result.StdErr);
        Assert.Equal("", result.StdOut);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("https://127.0.0.1:7421")]
    [InlineData("http://127.0.0.1:7421/api")]
    public async Task Serve_MalformedListen_ExitsTwoWithMessage(string listen)
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("serve", "--listen", listen);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: --listen {listen}: expected http://<ip>:<port>\n", result.StdErr);
        Assert.Equal("", result.StdOut);
    }

    /// <summary>Exit 2; the last stderr line is the message; every earlier line is a JSON log line.</summary>
    private static void AssertRejected(CommandResult result, string message)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.StdOut);
        var lines = result.StdErr.TrimEnd('\n').Split('\n');
        Assert.StartsWith("error: ", lines[^1], StringComparison.Ordinal);
        Assert.Contains(message, lines[^1], StringComparison.Ordinal);
        foreach (var line in lines[..^1])
        {
            ServerLogTests.AssertJsonLogLine(line);
        }
    }
}
