using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests;

/// <summary>The dispatch rule: a known first word runs headless; anything else boots the cockpit (never a parse error).</summary>
public sealed class DispatchTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task UnknownFirstWord_WithoutATerminal_ExplainsAndSuggests_Exit2()
    {
        var result = await _cli.RunAsync("rnus", "list");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(
            [
                "error: the cockpit needs a terminal on stdout (for 'rnus list'); scripts use the headless commands",
                "did you mean 'mogplex runs'?",
                "headless commands: mogplex repos|run|runs|sandboxes ... (see mogplex --help)",
            ],
            result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("--attach", "run_1")]
    [InlineData("--logout")]
    [InlineData("--events=jsonl")]
    public async Task CockpitArguments_AreNotParsedAsHeadlessFlags(params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.StartsWith("error: the cockpit needs a terminal on stdout", result.StderrLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(result.StderrLines, l => l.StartsWith("did you mean", StringComparison.Ordinal));
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task DashDashLogout_WithoutATerminal_ChangesNothing()
    {
        _cli.Env["MOGPLEX_HOME"] = Path.Combine(_cli.Home, ".mogplex");
        var auth = CliHarness.WriteAuthFile(Path.Combine(_cli.Home, ".mogplex"), """{"mogplex":{"token":"mog_kept"}}""");

        var result = await _cli.RunAsync("--logout");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Contains("mog_kept", await File.ReadAllTextAsync(auth, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoArguments_OnATerminal_ShowsTheCockpitPlaceholderUntilQuit()
    {
        _cli.StdoutIsTerminal = true;

        var result = await _cli.RunAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"mogplex {VersionInfo.Version}: interactive cockpit", result.StdoutLines[0]);
        Assert.Equal("Press q (or Esc, or Ctrl+C) to quit.", result.StdoutLines[^1]);
        Assert.Empty(result.Stderr);
        Assert.Empty(_cli.Http.Requests);
    }
}
