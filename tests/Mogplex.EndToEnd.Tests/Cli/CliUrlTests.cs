using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// cli.md § Configuration, base URL: <c>unix:</c> socket URLs, and plain http only to a loopback
/// host with <c>MOGPLEX_DEV=1</c> and <c>NODE_ENV</c> not <c>production</c> (here against
/// <c>mogplexd serve --listen http://127.0.0.1:&lt;port&gt;</c>).
/// </summary>
public sealed class CliUrlTests(CliUrlTests.Fixture server) : IClassFixture<CliUrlTests.Fixture>
{
    private const string Rule = "use https, or for a local development server use host localhost, 127.0.0.1 or [::1] with MOGPLEX_DEV=1 (never with NODE_ENV=production)";

    public sealed class Fixture() : CliServer(repoName: "urls");

    private string Tcp => server.Server.BaseAddress.ToString().TrimEnd('/');

    [Theory]
    [InlineData("unix:")]
    [InlineData("unix://")]
    public async Task UnixSocketUrl_ReposList_Works(string scheme)
    {
        var cli = server.Cli.With("MOGPLEX_URL", scheme + server.Server.SocketPath);

        var repo = CliOutput.SingleObject(await cli.RunCheckedAsync("repos", "list", "--json"));

        Assert.Equal((server.RepoId, "acme/urls"), (CliOutput.Str(repo, "id"), CliOutput.Str(repo, "full_name")));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task PlainHttpLoopback_WithDevFlag_RunStartedAndFollowedOverTcp(string host)
    {
        var cli = server.Cli.With("MOGPLEX_URL", $"http://{host}:{server.Server.BaseAddress.Port}").With("MOGPLEX_DEV", "1");

        var rows = CliOutput.Table(await cli.RunCheckedAsync("repos", "list"), "ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        var started = await cli.RunAsync("run", "--repo", server.RepoId, "--harness", "exec", "--json", "echo over tcp");
        Assert.True(started.ExitCode == 0 && started.StdErr.Length == 0, started.ToString());
        var runId = CliOutput.Str(CliOutput.SingleObject(started.StdOut), "runId");
        var followed = CliOutput.Lines((await CliServer.FollowAsync(cli, runId)).StdOut);

        Assert.Equal([[server.RepoId, "acme/urls", "trunk", "."]], rows);
        Assert.Equal($"--- run {runId} success ---", followed[^1]);
        Assert.Contains(followed, l => l.EndsWith("  over tcp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlainHttp_WithoutDevFlag_ExitTwoNamingTheRule()
    {
        var result = await server.Cli.With("MOGPLEX_URL", Tcp).RunAsync("repos", "list");

        AssertRefused(result, $"error: refusing plain http to {Tcp}: {Rule}");
    }

    [Fact]
    public async Task PlainHttp_DevFlagButNodeEnvProduction_ExitTwo()
    {
        var result = await server.Cli.With("MOGPLEX_URL", Tcp).With("MOGPLEX_DEV", "1").With("NODE_ENV", "production").RunAsync("repos", "list");

        AssertRefused(result, $"error: refusing plain http to {Tcp}: {Rule}");
    }

    [Fact]
    public async Task PlainHttp_DevFlagButNotLoopback_ExitTwo()
    {
        var result = await server.Cli.With("MOGPLEX_URL", "http://mogplex.invalid:8080").With("MOGPLEX_DEV", "1").RunAsync("repos", "list");

        AssertRefused(result, $"error: refusing plain http to http://mogplex.invalid:8080: {Rule}");
    }

    private static void AssertRefused(CommandResult result, string message)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.StdOut);
        Assert.Equal(message + "\n", result.StdErr);
    }
}
