using System.Text.RegularExpressions;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Parsing;

/// <summary>Help and version print on stdout and exit 0 without a token, a valid URL or the network.</summary>
public sealed partial class HelpTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public HelpTests()
    {
        // Nothing that a command would need: no token, no auth.json, and a URL that would be refused.
        _cli.Env.Remove("MOGPLEX_API_KEY");
        _cli.Env["MOGPLEX_URL"] = "http://example.com";
    }

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("run", "mogplex run --repo ")]
    [InlineData("repos list", "mogplex repos list ")]
    [InlineData("runs get", "mogplex runs get ")]
    [InlineData("runs events", "mogplex runs events ")]
    [InlineData("runs cancel", "mogplex runs cancel ")]
    [InlineData("runs list", "mogplex runs list ")]
    [InlineData("sandboxes list", "mogplex sandboxes list")]
    [InlineData("sandboxes stop", "mogplex sandboxes stop ")]
    public async Task CommandHelp_PrintsFlagsAndAnExample_WithoutNetworkOrToken(string command, string example)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var result = await _cli.RunAsync([.. command.Split(' '), flag]);

            Assert.Equal(ExitCodes.Success, result.Exit);
            Assert.Empty(result.Stderr);
            var lines = result.StdoutLines;
            var exampleAt = Array.FindIndex([.. lines], l => l.Trim() == "Example:");
            Assert.True(exampleAt >= 0, $"no example in:\n{result.Stdout}");
            Assert.StartsWith(example, lines[exampleAt + 1].Trim(), StringComparison.Ordinal);
            Assert.Contains(lines, l => l.TrimStart().StartsWith("-?, -h, --help", StringComparison.Ordinal));
        }

        Assert.Empty(_cli.Http.Requests);
        Assert.Empty(_cli.Addresses);
    }

    [Fact]
    public async Task RunHelp_ListsEveryFlagOfTheContract()
    {
        var result = await _cli.RunAsync("run", "--help");

        foreach (var flag in new[] { "--repo <id>", "--harness <codex|claude-code>", "--base-branch <name>", "--branch <name>", "--create-branch", "--root <dir>", "--idempotency-key <k>", "--json" })
        {
            Assert.Contains(result.StdoutLines, l => l.TrimStart().StartsWith(flag, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task RunsEventsHelp_ListsEveryFlagOfTheContract()
    {
        var result = await _cli.RunAsync("runs", "events", "--help");

        foreach (var flag in new[] { "-f, --follow", "--timeout <S>", "--limit <N>", "--json" })
        {
            Assert.Contains(result.StdoutLines, l => l.TrimStart().StartsWith(flag, StringComparison.Ordinal));
        }

        Assert.Contains(result.StdoutLines, l => l.Contains("(default 1800)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GroupHelp_ListsItsVerbs()
    {
        var result = await _cli.RunAsync("runs", "--help");

        Assert.Equal(ExitCodes.Success, result.Exit);
        foreach (var verb in new[] { "get <runId>", "events <runId>", "cancel <runId>", "list" })
        {
            Assert.Contains(result.StdoutLines, l => l.TrimStart().StartsWith(verb, StringComparison.Ordinal));
        }

        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task RootHelp_FirstLineNamesToolAndVersion_ThenTheCommands(string flag)
    {
        var result = await _cli.RunAsync(flag);

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Empty(result.Stderr);
        Assert.Matches(SemVer(), VersionInfo.Version);
        Assert.Equal($"mogplex {VersionInfo.Version}: run and follow AI coding agents on Mogplex", result.StdoutLines[0]);
        foreach (var command in new[] { "repos list", "run --repo <id>", "runs get <runId>", "runs events <runId>", "runs cancel <runId>", "runs list", "sandboxes list", "sandboxes stop <id>" })
        {
            Assert.Contains(result.StdoutLines, l => l.TrimStart().StartsWith(command, StringComparison.Ordinal));
        }

        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Version_PrintsToolAndVersion()
    {
        var result = await _cli.RunAsync("--version");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([$"mogplex {VersionInfo.Version}"], result.StdoutLines);
        Assert.Empty(result.Stderr);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public void Version_IsTheBuildVersion()
    {
        var expected = typeof(CliApp).Assembly.GetName().Version!;

        Assert.Equal($"{expected.Major}.{expected.Minor}.{expected.Build}", VersionInfo.Version);
    }

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();
}
