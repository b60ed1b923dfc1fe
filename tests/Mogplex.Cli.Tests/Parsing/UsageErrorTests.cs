using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Parsing;

/// <summary>Bad arguments are usage errors (exit 2) with <c>error: ...</c>, a did-you-mean where one is close, and no request.</summary>
public sealed class UsageErrorTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(new[] { "runs", "gte", "run_1" }, "error: runs: Unrecognized command or argument 'gte' (did you mean 'get'?)", "see: mogplex runs --help")]
    [InlineData(new[] { "runs", "evnets", "run_1" }, "error: runs: Unrecognized command or argument 'evnets' (did you mean 'events'?)", "see: mogplex runs --help")]
    [InlineData(new[] { "repos", "lst" }, "error: repos: Unrecognized command or argument 'lst' (did you mean 'list'?)", "see: mogplex repos --help")]
    [InlineData(new[] { "sandboxes", "stpo", "sb_1" }, "error: sandboxes: Unrecognized command or argument 'stpo' (did you mean 'stop'?)", "see: mogplex sandboxes --help")]
    [InlineData(new[] { "runs", "foo" }, "error: runs: Unrecognized command or argument 'foo'", "see: mogplex runs --help")]
    public async Task UnknownSubcommandOfKnownGroup_IsUsageErrorWithSuggestion(string[] args, string error, string see)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal([error, see], result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData(new[] { "runs", "get", "run_1", "--jsn" }, "error: runs get: Unrecognized command or argument '--jsn' (did you mean '--json'?)")]
    [InlineData(new[] { "runs", "events", "run_1", "--folow" }, "error: runs events: Unrecognized command or argument '--folow' (did you mean '--follow'?)")]
    [InlineData(new[] { "sandboxes", "list", "--stat", "running" }, "error: sandboxes list: Unrecognized command or argument '--stat' (did you mean '--status'?)")]
    [InlineData(new[] { "repos", "list", "--qeury", "api" }, "error: repos list: Unrecognized command or argument '--qeury' (did you mean '--query'?)")]
    [InlineData(new[] { "runs", "list", "--bogus" }, "error: runs list: Unrecognized command or argument '--bogus'")]
    public async Task UnknownFlag_IsUsageErrorWithSuggestion(string[] args, string error)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(error, result.StderrLines[0]);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData(new[] { "runs", "get", "--jsn" }, "error: runs get: Unrecognized command or argument '--jsn' (did you mean '--json'?)")]
    [InlineData(new[] { "runs", "cancel", "--jsno" }, "error: runs cancel: Unrecognized command or argument '--jsno' (did you mean '--json'?)")]
    [InlineData(new[] { "run", "--repo", "repo_1", "--create-brnach", "fix", "it" }, "error: run: Unrecognized command or argument '--create-brnach' (did you mean '--create-branch'?)")]
    [InlineData(new[] { "run", "--repo", "repo_1", "fix", "it", "--hanress", "codex" }, "error: run: Unrecognized command or argument '--hanress' (did you mean '--harness'?)")]
    public async Task UnknownFlagWhereAnArgumentGoes_IsUsageErrorNotAValue(string[] args, string error)
    {
        // A mistyped flag must not become a run ID or, worse, part of the prompt of a started run.
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(error, result.StderrLines[0]);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData(new[] { "runs", "get" }, "error: runs get: Required argument missing for command: 'get'")]
    [InlineData(new[] { "runs", "events" }, "error: runs events: Required argument missing for command: 'events'")]
    [InlineData(new[] { "runs", "cancel" }, "error: runs cancel: Required argument missing for command: 'cancel'")]
    [InlineData(new[] { "sandboxes", "stop" }, "error: sandboxes stop: Required argument missing for command: 'stop'")]
    [InlineData(new[] { "run", "--repo" }, "error: run: Required argument missing for option: '--repo'")]
    [InlineData(new[] { "runs" }, "error: runs: Required command was not provided")]
    [InlineData(new[] { "runs", "get", "run_1", "run_2" }, "error: runs get: Unrecognized command or argument 'run_2'")]
    public async Task MissingOrExtraArgument_IsUsageError(string[] args, string error)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(error, result.StderrLines[0]);
        Assert.StartsWith("see: mogplex ", result.StderrLines[1]);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData(new[] { "repos", "list", "--limit", "0" }, "error: repos list: --limit must be a positive number")]
    [InlineData(new[] { "runs", "list", "--limit", "-3" }, "error: runs list: --limit must be a positive number")]
    [InlineData(new[] { "runs", "events", "run_1", "--follow", "--timeout", "0" }, "error: runs events: --timeout must be a positive number")]
    public async Task NonPositiveNumber_IsUsageError(string[] args, string error)
    {
        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(error, result.StderrLines[0]);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task NotANumber_IsUsageError()
    {
        var result = await _cli.RunAsync("repos", "list", "--limit", "abc");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.StartsWith("error: repos list: ", result.StderrLines[0]);
        Assert.Contains("'abc'", result.StderrLines[0], StringComparison.Ordinal);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_WithoutRepo_IsUsageErrorWithTheDocumentedMessage()
    {
        // Checked before the token: no MOGPLEX_API_KEY, still a usage error (2), not 64.
        _cli.Env.Remove("MOGPLEX_API_KEY");

        var result = await _cli.RunAsync("run", "Fix the typo");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: --repo <id> is required (find IDs via `mogplex repos list`)"], result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_WithoutPromptOnATerminal_IsUsageError()
    {
        var result = await _cli.RunAsync("run", "--repo", "repo_1");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: a prompt is required (as arguments, or - to read it from stdin)"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_EmptyPromptOnStdin_IsUsageError()
    {
        _cli.Stdin = " \n\t\n";

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "-");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: the prompt read from stdin is empty"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_NoPromptAndEmptyPipedStdin_IsUsageError()
    {
        _cli.Stdin = "";

        var result = await _cli.RunAsync("run", "--repo", "repo_1");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: the prompt read from stdin is empty"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task Run_EmptyIdempotencyKey_IsUsageError()
    {
        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--idempotency-key", " ", "go");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal(["error: run: --idempotency-key must not be empty"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }
}
