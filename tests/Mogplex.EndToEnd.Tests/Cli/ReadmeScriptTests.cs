using System.Text.Json;
using System.Text.RegularExpressions;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// The README's "In CI" scripts, taken from README.md as written (the bash blocks after the
/// <c>&lt;!-- ci-script --&gt;</c> and <c>&lt;!-- retry-loop --&gt;</c> markers) and run by bash
/// with <c>mogplex</c> and <c>jq</c> on PATH, as a CI job would. They start runs without
/// <c>--harness</c>, so the server's default harness runs them: the real Codex CLI against the
/// model stand-in (<see cref="RealCodex"/>).
/// </summary>
public sealed partial class ReadmeScriptTests(ReadmeScriptTests.Fixture server) : IClassFixture<ReadmeScriptTests.Fixture>
{
    /// <summary>The run error for the stand-in's HTTP 500: status and host, then Codex's own words.</summary>
    private string CodexServerErrorMessage => $"codex: model API error: HTTP 500 from {server.Model.BaseUrl.Authority}: We’re currently experiencing high demand, which may cause temporary errors.";
    private static readonly TimeSpan s_scriptTimeout = TimeSpan.FromSeconds(90);

    public sealed class Fixture() : CliServer(repoName: "ci")
    {
        private ModelStandInServer? _model;

        /// <summary>The model stand-in the server's Codex harness calls.</summary>
        public ModelStandInServer Model => _model ?? throw new InvalidOperationException("the fixture is not initialized");

        public override async ValueTask InitializeAsync()
        {
            _model = await RealCodex.ConfigureAsync(ServerEnvironment);
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            if (_model is not null)
            {
                await _model.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task CiScript_SucceedingPrompt_FollowsTheRunAndExitsZero()
    {
        var result = await RunScriptAsync(server.Cli, "ci-script", "job-ok", "Record the build [[write ci.txt built by ci]] [[say ci build done]]");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.StdErr);
        var lines = CliOutput.Lines(result.StdOut);
        var end = EndLine().Match(lines[^1]);
        Assert.True(end.Success && end.Groups[2].Value == "success", result.ToString());
        var run = await server.GetRunAsync(end.Groups[1].Value);
        Assert.Equal(("codex", "ci/job-ok", true), (CliOutput.Str(run, "harness"), CliOutput.Str(run.GetProperty("branch"), "working"), run.GetProperty("branch").GetProperty("createBranch").GetBoolean()));
        var events = await server.EventsAsync(end.Groups[1].Value);
        Assert.Equal([.. events.Select(CliOutput.EventLine), lines[^1]], lines);
        // What the real Codex did: one shell tool call (run by its login shell), then the answer.
        // Its stderr lines (startup warnings, logged as they come) are left out.
        var agent = events.Where(e => !IsStderrLog(e)).SkipWhile(e => CliOutput.Str(e, "type") != "stream_started").Select(e => (CliOutput.Str(e, "type"), e.GetProperty("toolName").GetString())).ToList();
        Assert.Equal([("stream_started", null), ("turn_started", null), ("tool_call", "shell"), ("tool_result", "shell"), ("assistant_message", null), ("usage", null), ("turn_completed", null), ("log", null), ("finished", null)], agent);
        Assert.EndsWith(" -lc \"printf '%s' 'built by ci' > 'ci.txt'\"", CliOutput.Str(events.Single(e => CliOutput.Str(e, "type") == "tool_call"), "message"), StringComparison.Ordinal);
        Assert.Equal(("exit 0", "ci build done", "200 in, 40 out"), (Message(events, "tool_result"), Message(events, "assistant_message"), Message(events, "usage")));
        // Two model calls: the one answered with the tool call, the one after its output.
        Assert.Equal(2, server.Model.Requests.Count(r => r.PathAndQuery == "/v1/responses" && r.Body.Contains("[[write ci.txt built by ci]]", StringComparison.Ordinal)));
        var commit = CliOutput.Str(run, "commit");
        Assert.Equal($"Run finished; delivered {commit[..12]}", Message(events, "finished"));
        Assert.Equal(commit, (await ProcessRunner.RunCheckedAsync("git", ["--git-dir", server.Source.Path, "rev-parse", "ci/job-ok"])).Trim());
        Assert.Equal("built by ci", await ProcessRunner.RunCheckedAsync("git", ["--git-dir", server.Source.Path, "show", "ci/job-ok:ci.txt"]));
    }

    [Fact]
    public async Task CiScript_FailingPrompt_ExitsNonZeroNamingTheStatus()
    {
        var result = await RunScriptAsync(server.Cli, "ci-script", "job-broken", "The model is down [[fail500]]");

        Assert.Equal(1, result.ExitCode);
        var end = EndLine().Match(CliOutput.Lines(result.StdOut)[^1]);
        Assert.True(end.Success && end.Groups[2].Value == "failed", result.ToString());
        Assert.Equal($"run {end.Groups[1].Value} ended failed\n", result.StdErr);
        // Codex turns the model's HTTP 500 into this turn.failed message (pinned Codex version), and exits 1.
        var run = await server.GetRunAsync(end.Groups[1].Value);
        Assert.Equal(CodexServerErrorMessage, CliOutput.Str(run, "error"));
        Assert.Equal(JsonValueKind.Null, run.GetProperty("commit").ValueKind);
        Assert.Equal(CodexServerErrorMessage, Message(await server.EventsAsync(end.Groups[1].Value), "failed"));
        Assert.Contains(server.Model.Requests, r => r.PathAndQuery == "/v1/responses" && r.Body.Contains("[[fail500]]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetryLoop_SameJobTwice_SecondIsReplayedAndOneRunStarted()
    {
        var before = await RunsOfRepoAsync(server.Cli, server.RepoId);

        var first = await RunScriptAsync(server.Cli, "retry-loop", "job-retry", "Retry safely [[write retry.txt ok]]");
        var second = await RunScriptAsync(server.Cli, "retry-loop", "job-retry", "Retry safely [[write retry.txt ok]]");

        Assert.True(first.ExitCode == 0 && first.StdErr.Length == 0, first.ToString());
        Assert.True(second.ExitCode == 0 && second.StdErr.Length == 0, second.ToString());
        var started = StartedLine().Match(first.StdOut);
        Assert.True(started.Success && started.Groups[2].Value == "false", first.ToString());
        var runId = started.Groups[1].Value;
        Assert.Equal($"run {runId} (replayed: true)\n", second.StdOut);
        var after = await RunsOfRepoAsync(server.Cli, server.RepoId);
        Assert.Equal([runId], after.Except(before));
        Assert.Equal(before.Count + 1, after.Count);
        Assert.Equal("success", await server.WaitForEndAsync(runId));
    }

    /// <summary>The loop's reason to exist: the first attempts find no server (69), a later one starts the run.</summary>
    [Fact]
    public async Task RetryLoop_ServerDownAtFirst_RetriesUntilItAnswersAndStartsOneRun()
    {
        await using var late = new CliServer(repoName: "late");
        await using var model = await RealCodex.ConfigureAsync(late.ServerEnvironment);

        await late.PrepareAsync();
        var script = await WriteScriptAsync(late.Mogplexd.RootDir, "retry-loop");
        await using var loop = BackgroundProcess.Start("bash", [script], ScriptEnvironment(late.Cli, late.RepoId, "job-late", "Late but fine [[write late.txt ok]]"), late.Mogplexd.RootDir);
        Assert.True(
            await loop.WaitUntilAsync((_, stderr) => stderr.Contains($"error: cannot reach the server at unix:{late.SocketPath}: ", StringComparison.Ordinal), s_scriptTimeout),
            $"the first attempt did not fail as unreachable\n--- stdout\n{loop.StdOut}\n--- stderr\n{loop.StdErr}");

        await late.RestartAsync();

        Assert.Equal(0, await loop.WaitForExitAsync(s_scriptTimeout));
        var started = StartedLine().Match(loop.StdOut);
        Assert.True(started.Success && started.Groups[2].Value == "false", loop.StdOut + loop.StdErr);
        Assert.Equal([started.Groups[1].Value], await RunsOfRepoAsync(late.Cli, late.RepoId));
        Assert.All(CliOutput.Lines(loop.StdErr), l => Assert.StartsWith("error: cannot reach the server at unix:", l, StringComparison.Ordinal));
    }

    /// <summary>
    /// A proxy in front of the server answers the first attempt with its HTML 502 page: the CLI
    /// exits 69, so the loop waits and retries, and the retry (passed through) starts the run.
    /// </summary>
    [Fact]
    public async Task RetryLoop_ProxyAnswers502First_RetriesAndStartsOneRun()
    {
        var before = await RunsOfRepoAsync(server.Cli, server.RepoId);
        await using var proxy = new HostileHttpServer(c => c.Index == 0
            ? c.AnswerAsync(502, "Bad Gateway", "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
            : c.ForwardAsync(server.Server.BaseAddress));
        var cli = server.Cli.With("MOGPLEX_URL", proxy.Url).With("MOGPLEX_DEV", "1");

        var result = await RunScriptAsync(cli, "retry-loop", "job-proxy", "Behind a proxy [[write proxy.txt ok]]");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("error: unexpected answer from the server: HTTP 502 Bad Gateway (HTTP_502)\n", result.StdErr);
        var started = StartedLine().Match(result.StdOut);
        Assert.True(started.Success && started.Groups[2].Value == "false", result.ToString());
        Assert.Equal(2, proxy.Accepted);
        Assert.Equal([started.Groups[1].Value], (await RunsOfRepoAsync(server.Cli, server.RepoId)).Except(before));
        Assert.Equal("success", await server.WaitForEndAsync(started.Groups[1].Value));
    }

    /// <summary>
    /// The README's first API run, as written (curl and jq; the default data folder's socket, here a
    /// link in a fresh home to this server's), twice: each start takes a fresh Idempotency-Key, so
    /// the second is a run of its own, not a replay. The stream ends by itself; the read says success.
    /// </summary>
    [Fact]
    public async Task ApiExample_RunsAsWritten_AndAgainStartsASecondRun()
    {
        var home = Path.Combine(server.Mogplexd.RootDir, $"api-home-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(home, ".mogplex", "server"));
        File.CreateSymbolicLink(Path.Combine(home, ".mogplex", "server", "mogplexd.sock"), server.SocketPath);
        var script = await WriteScriptAsync(server.Mogplexd.RootDir, "api-example");
        var env = new Dictionary<string, string?> { ["HOME"] = home, ["TOKEN"] = server.Token };

        var runs = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var result = await ProcessRunner.RunAsync("bash", [script], env, home, s_scriptTimeout);

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("", result.StdErr);
            var lines = CliOutput.Lines(result.StdOut);
            Assert.Equal("success", lines[^1]);
            var end = lines.ToList().IndexOf("event: end");
            Assert.True(end > 0 && lines[end + 1].StartsWith("data: ", StringComparison.Ordinal), result.ToString());
            var data = JsonDocument.Parse(lines[end + 1]["data: ".Length..]).RootElement;
            Assert.Equal("success", data.GetProperty("status").GetString());
            Assert.Contains(lines, l => l == "event: finished");
            runs.Add(data.GetProperty("runId").GetString()!);
        }

        Assert.NotEqual(runs[0], runs[1]);
        var run = await server.GetRunAsync(runs[0]);
        Assert.Equal(("exec", server.RepoId), (CliOutput.Str(run, "harness"), CliOutput.Str(run, "repoId")));
        Assert.Equal("hello\n", await ProcessRunner.RunCheckedAsync("git", ["--git-dir", server.Source.Path, "show", $"{CliOutput.Str(run, "commit")}:hello.txt"]));
    }

    /// <summary>The bash block after <c>&lt;!-- marker --&gt;</c> in the repository's README.md, verbatim.</summary>
    private static string Block(string marker)
    {
        var readme = File.ReadAllText(Path.Combine(MogplexCli.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        var at = readme.IndexOf($"<!-- {marker} -->\n", StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no <!-- {marker} --> marker");
        const string open = "```bash\n";
        var start = readme.IndexOf(open, at, StringComparison.Ordinal);
        Assert.True(start >= 0 && readme[at..start].Split('\n').Length == 2, $"the <!-- {marker} --> marker is not right before a bash block");
        start += open.Length;
        var end = readme.IndexOf("\n```\n", start, StringComparison.Ordinal);
        Assert.True(end > start, $"the bash block after <!-- {marker} --> does not end");
        return readme[start..(end + 1)];
    }

    private static async Task<string> WriteScriptAsync(string folder, string marker)
    {
        var path = Path.Combine(folder, $"{marker}-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(path, Block(marker), TestContext.Current.CancellationToken);
        return path;
    }

    /// <summary>What the CI job has: its variables, the CLI's configuration, and mogplex (with jq, from the system) on PATH.</summary>
    private static Dictionary<string, string?> ScriptEnvironment(MogplexCli cli, string repoId, string jobId, string prompt)
    {
        var env = new Dictionary<string, string?>(cli.Environment, StringComparer.Ordinal)
        {
            ["PATH"] = MogplexCli.BinDirectory + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
            ["REPO_ID"] = repoId,
            ["PROMPT"] = prompt,
            ["CI_JOB_ID"] = jobId,
        };
        return env;
    }

    private async Task<CommandResult> RunScriptAsync(MogplexCli cli, string marker, string jobId, string prompt)
    {
        var script = await WriteScriptAsync(server.Mogplexd.RootDir, marker);
        return await ProcessRunner.RunAsync("bash", [script], ScriptEnvironment(cli, server.RepoId, jobId, prompt), server.Mogplexd.RootDir, s_scriptTimeout);
    }

    /// <summary>The message of the run's only event of <paramref name="type"/>.</summary>
    private static string Message(IReadOnlyList<JsonElement> events, string type) =>
        CliOutput.Str(Assert.Single(events, e => CliOutput.Str(e, "type") == type), "message");

    private static bool IsStderrLog(JsonElement e) =>
        CliOutput.Str(e, "type") == "log" && e.GetProperty("payload") is { ValueKind: JsonValueKind.Object } payload && payload.TryGetProperty("stream", out _);

    private static async Task<List<string>> RunsOfRepoAsync(MogplexCli cli, string repoId) =>
        [.. CliOutput.JsonLines(await cli.RunCheckedAsync("runs", "list", "--repo", repoId, "--limit", "200", "--json")).Select(r => CliOutput.Str(r, "runId"))];

    [GeneratedRegex(@"^--- run ([0-9a-f-]{36}) (\w+) ---$")]
    private static partial Regex EndLine();

    [GeneratedRegex(@"^run ([0-9a-f-]{36}) \(replayed: (true|false)\)\n$")]
    private static partial Regex StartedLine();
}
