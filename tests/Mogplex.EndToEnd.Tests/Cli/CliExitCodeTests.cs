using System.Globalization;
using System.Text.RegularExpressions;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// Every exit code of cli.md § Exit codes, provoked for real against <c>mogplexd</c>, each with
/// its exact <c>error: ...</c> line on stderr and nothing on stdout.
/// </summary>
public sealed class CliExitCodeTests(CliExitCodeTests.Fixture server) : IClassFixture<CliExitCodeTests.Fixture>
{
    private const string UnknownRunId = "01a20000-0000-7000-8000-000000000000";

    private MogplexCli Cli => server.Cli;

    /// <summary>The shared server, plus a read-only token and a revoked one.</summary>
    public sealed class Fixture() : CliServer(repoName: "codes")
    {
        public string ReadOnlyToken { get; private set; } = "";

        public string RevokedToken { get; private set; } = "";

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            ReadOnlyToken = await Mogplexd.CreateTokenAsync("reader", "read");
            var created = await Mogplexd.RunAsync("token", "create", "--name", "revoked");
            Assert.True(created.ExitCode == 0, created.ToString());
            RevokedToken = created.StdOut.Trim();
            var tokenId = Regex.Match(created.StdErr, "created token ([0-9a-f-]{36}) ").Groups[1].Value;
            Assert.True(tokenId.Length == 36, created.ToString());
            await Mogplexd.RunCheckedAsync("token", "revoke", tokenId);
        }
    }

    [Fact]
    public async Task ReposList_ValidToken_ExitZero()
    {
        var result = await Cli.RunAsync("repos", "list", "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StdErr);
        Assert.Equal(server.RepoId, CliOutput.Str(CliOutput.SingleObject(result.StdOut), "id"));
    }

    [Theory]
    [InlineData("runs", "get")]
    [InlineData("runs", "events")]
    [InlineData("runs", "cancel")]
    public async Task UnknownRunId_AnyRunCommand_ExitOneNotFound(string group, string command)
    {
        var result = await Cli.RunAsync(group, command, UnknownRunId);

        AssertFailure(result, 1, "error: Run not found (NOT_FOUND)");
    }

    [Fact]
    public async Task ReusedIdempotencyKey_ChangedPrompt_ExitOneIdempotencyConflict()
    {
        await Cli.RunCheckedAsync("run", "--repo", server.RepoId, "--harness", "exec", "--idempotency-key", "codes-conflict", "echo first");

        var result = await Cli.RunAsync("run", "--repo", server.RepoId, "--harness", "exec", "--idempotency-key", "codes-conflict", "echo second");

        AssertFailure(result, 1, "error: Idempotency key already used for a different request (IDEMPOTENCY_CONFLICT)");
    }

    [Fact]
    public async Task FollowTimeout_LongRun_ExitOneAndTheRunGoesOn()
    {
        var runId = await server.StartRunAsync("echo started the long one; sleep 300");

        var result = await Cli.RunAsync("runs", "events", runId, "--follow", "--timeout", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --follow timed out after 1s waiting for terminal status\n", result.StdErr);
        Assert.DoesNotContain("--- run ", result.StdOut, StringComparison.Ordinal);
        var status = CliOutput.Str(await server.GetRunAsync(runId), "status");
        Assert.True(status is "pending" or "streaming", status);
        Assert.Equal([$"cancellation requested for run {runId}", "status: cancelled"], CliOutput.Lines(await Cli.RunCheckedAsync("runs", "cancel", runId)));
    }

    [Theory]
    [InlineData("runs evnts x", "error: runs: Unrecognized command or argument 'evnts' (did you mean 'events'?)", "see: mogplex runs --help")]
    [InlineData("runs frobnicate x", "error: runs: Unrecognized command or argument 'frobnicate'", "see: mogplex runs --help")]
    [InlineData("sandboxes stp x", "error: sandboxes: Unrecognized command or argument 'stp' (did you mean 'stop'?)", "see: mogplex sandboxes --help")]
    [InlineData("runs get x --jsn", "error: runs get: Unrecognized command or argument '--jsn' (did you mean '--json'?)", "see: mogplex runs get --help")]
    [InlineData("repos list --limit 0", "error: repos list: --limit must be a positive number", "see: mogplex repos list --help")]
    public async Task BadArguments_ExitTwoWithUsageMessage(string args, string error, string hint)
    {
        var result = await Cli.RunAsync(args.Split(' '));

        AssertFailure(result, 2, error, hint);
    }

    [Fact]
    public async Task Run_WithoutRepo_ExitTwoWithTheDocumentedMessage()
    {
        var result = await Cli.RunAsync("run", "--harness", "exec", "echo no repo");

        AssertFailure(result, 2, "error: run: --repo <id> is required (find IDs via `mogplex repos list`)");
    }

    [Fact]
    public async Task NoToken_NeitherEnvironmentNorAuthFile_ExitSixtyFour()
    {
        var cli = new MogplexCli(server.NewHome(), "unix:" + server.Server.SocketPath, token: null);

        var result = await cli.RunAsync("repos", "list");

        AssertFailure(result, 64, "error: not authenticated: set MOGPLEX_API_KEY or sign in with `mogplex`");
        Assert.Equal(64, (await cli.With("MOGPLEX_API_KEY", "").RunAsync("repos", "list")).ExitCode);
    }

    [Fact]
    public async Task NoTokenInEnvironment_AuthFileInMogplexHomeOrHome_TokenFromTheFileIsUsed()
    {
        var cli = new MogplexCli(server.NewHome(), "unix:" + server.Server.SocketPath, token: null);
        Directory.CreateDirectory(cli.MogplexHome!);
        var auth = $$$"""{"mogplex": {"token": "{{{server.Token}}}", "createdAt": "2026-01-01T00:00:00Z"}, "other": {"kept": true}}""";
        await File.WriteAllTextAsync(Path.Combine(cli.MogplexHome!, "auth.json"), auth, TestContext.Current.CancellationToken);

        Assert.Equal(server.RepoId, CliOutput.Str(CliOutput.SingleObject(await cli.RunCheckedAsync("repos", "list", "--json")), "id"));
        // Without MOGPLEX_HOME the file is ~/.mogplex/auth.json, which is the same file here.
        Assert.Equal(server.RepoId, CliOutput.Str(CliOutput.SingleObject(await cli.With("MOGPLEX_HOME", null).RunCheckedAsync("repos", "list", "--json")), "id"));
    }

    [Fact]
    public async Task RevokedOrUnknownToken_ExitSixtyFourUnauthorized()
    {
        var revoked = await Cli.With("MOGPLEX_API_KEY", server.RevokedToken).RunAsync("repos", "list");
        var unknown = await Cli.With("MOGPLEX_API_KEY", "mog_" + new string('x', 32)).RunAsync("runs", "list");

        AssertFailure(revoked, 64, "error: Unauthorized (UNAUTHORIZED)");
        AssertFailure(unknown, 64, "error: Unauthorized (UNAUTHORIZED)");
        Assert.DoesNotContain(server.RevokedToken, revoked.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOnlyToken_StartingARun_ExitSixtyFiveForbiddenButReadsWork()
    {
        var reader = Cli.With("MOGPLEX_API_KEY", server.ReadOnlyToken);

        var result = await reader.RunAsync("run", "--repo", server.RepoId, "--harness", "exec", "echo nope");

        AssertFailure(result, 65, "error: Missing required scope: write (FORBIDDEN)");
        Assert.Equal(server.RepoId, CliOutput.Str(CliOutput.SingleObject(await reader.RunCheckedAsync("repos", "list", "--json")), "id"));
    }

    [Fact]
    public async Task SocketMissing_ExitSixtyNineNamingTheAddress()
    {
        var missing = Path.Combine(server.Mogplexd.RootDir, "no-such", "mogplexd.sock");

        var result = await Cli.With("MOGPLEX_URL", "unix:" + missing).RunAsync("repos", "list");

        Assert.Equal(69, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.StartsWith($"error: cannot reach the server at unix:{missing}: ", result.StdErr, StringComparison.Ordinal);
        Assert.Single(CliOutput.Lines(result.StdErr));
    }

    [Fact]
    public async Task ServerStopped_SocketAndTcp_ExitSixtyNineNamingTheAddress()
    {
        await using var stopped = new CliServer(repoName: "stopped");
        await stopped.InitializeAsync();
        var tcp = stopped.Server.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal(0, await stopped.Server.StopAsync());

        var overSocket = await stopped.Cli.RunAsync("repos", "list");
        var overTcp = await stopped.Cli.With("MOGPLEX_URL", tcp).With("MOGPLEX_DEV", "1").RunAsync("runs", "get", UnknownRunId);

        Assert.Equal((69, ""), (overSocket.ExitCode, overSocket.StdOut));
        Assert.StartsWith($"error: cannot reach the server at unix:{stopped.SocketPath}: ", overSocket.StdErr, StringComparison.Ordinal);
        Assert.Equal((69, ""), (overTcp.ExitCode, overTcp.StdOut));
        Assert.StartsWith($"error: cannot reach the server at {tcp}: ", overTcp.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimited_ExitSeventyFiveWithRetryAfter()
    {
        await using var limited = new CliServer(new Dictionary<string, string?> { ["MOGPLEXD_RateLimits__RequestsPerWindow"] = "2" }, "limited");
        await limited.InitializeAsync();
        await limited.Cli.RunCheckedAsync("repos", "list");
        await limited.Cli.RunCheckedAsync("repos", "list");

        var result = await limited.Cli.RunAsync("repos", "list");

        Assert.Equal((75, ""), (result.ExitCode, result.StdOut));
        var lines = CliOutput.Lines(result.StdErr);
        Assert.Equal(2, lines.Count);
        var error = Regex.Match(lines[0], @"^error: Rate limit exceeded\. Retry after (\d+)s\. \(RATE_LIMITED\)$");
        Assert.True(error.Success, result.ToString());
        var seconds = int.Parse(error.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 60);
        Assert.Equal($"retry after {seconds}s", lines[1]);
    }

    private static void AssertFailure(CommandResult result, int exitCode, params string[] stderrLines)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Equal("", result.StdOut);
        Assert.Equal(stderrLines, CliOutput.Lines(result.StdErr));
    }
}
