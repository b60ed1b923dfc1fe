using System.Text.RegularExpressions;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// Every headless command of cli.md against a real <c>mogplexd --dev</c> with real data: runs
/// use the <c>exec</c> harness (the prompt is a bash script run in the sandbox). The tests of this
/// class share one server and run one at a time; each works on runs it started itself.
/// </summary>
public sealed class CliCommandTests(CliCommandTests.Fixture server) : IClassFixture<CliCommandTests.Fixture>
{
    private static readonly string[] s_runColumns = ["RUN", "STATUS", "HARNESS", "REPO", "BRANCH", "CREATED"];
    private static readonly string[] s_sandboxColumns = ["ID", "STATUS", "REPO", "WORKING BRANCH", "LAST ACTIVE"];

    private MogplexCli Cli => server.Cli;

    /// <summary>The shared server: <c>acme/cli</c> for most tests, <c>acme/other</c> only for the list filters.</summary>
    public sealed class Fixture() : CliServer()
    {
        public string OtherRepoId { get; private set; } = "";

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            OtherRepoId = (await LinkRepoAsync("other")).RepoId;
        }
    }

    [Fact]
    public async Task ReposList_Table_HeaderThenOneAlignedRowPerRepoByFullName()
    {
        var result = await Cli.RunAsync("repos", "list");

        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        var rows = CliOutput.Table(result.StdOut, "ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        Assert.Equal(
            [[server.RepoId, "acme/cli", "trunk", "."], [server.OtherRepoId, "acme/other", "trunk", "."]],
            rows);

        var filtered = CliOutput.Table(await Cli.RunCheckedAsync("repos", "list", "--query", "OTH"), "ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        Assert.Equal([[server.OtherRepoId, "acme/other", "trunk", "."]], filtered);
        var limited = CliOutput.Table(await Cli.RunCheckedAsync("repos", "list", "--limit", "1"), "ID", "FULL NAME", "DEFAULT BRANCH", "ROOT");
        Assert.Equal(server.RepoId, Assert.Single(limited)[0]);
    }

    [Fact]
    public async Task ReposList_Json_OneApiObjectPerLineAndNothingElse()
    {
        var repos = CliOutput.JsonLines(await Cli.RunCheckedAsync("repos", "list", "--json"));

        Assert.Equal(2, repos.Count);
        Assert.Equal(["id", "full_name", "installation_id", "default_branch", "root_directory"], repos[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            [(server.RepoId, "acme/cli", "trunk", ""), (server.OtherRepoId, "acme/other", "trunk", "")],
            repos.Select(r => (CliOutput.Str(r, "id"), CliOutput.Str(r, "full_name"), CliOutput.Str(r, "default_branch"), CliOutput.Str(r, "root_directory"))));
        Assert.True(repos[0].GetProperty("installation_id").GetInt64() > 0);
    }

    [Fact]
    public async Task Run_ExecScriptOnCreatedBranch_PrettySummaryAndFileDeliveredToBranch()
    {
        var result = await Cli.RunAsync(
            "run", "--repo", server.RepoId, "--harness", "exec", "--base-branch", "trunk", "--branch", "cli/pretty", "--create-branch",
            "echo hello from mogplex > hello.txt;", "echo", "wrote hello.txt");

        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        var lines = CliOutput.Lines(result.StdOut);
        var started = Regex.Match(lines[0], @"^started run ([0-9a-f-]{36}) \(pending\)$");
        Assert.True(started.Success, result.ToString());
        var runId = started.Groups[1].Value;
        Assert.Equal(
            [
                $"started run {runId} (pending)",
                $"repo    {server.RepoId}",
                "harness exec",
                "branch  cli/pretty (base trunk, created)",
                $"tail events: mogplex runs events {runId} --follow",
            ],
            lines);

        Assert.Equal("success", await server.WaitForEndAsync(runId));
        var events = await server.EventsAsync(runId);
        Assert.Contains(events, e => CliOutput.Str(e, "type") == "log" && CliOutput.Str(e, "message") == "wrote hello.txt");
        Assert.Equal("hello from mogplex\n", await ProcessRunner.RunCheckedAsync("git", ["--git-dir", server.Source.Path, "show", "cli/pretty:hello.txt"]));
        var run = await server.GetRunAsync(runId);
        Assert.Equal(
            (await ProcessRunner.RunCheckedAsync("git", ["--git-dir", server.Source.Path, "rev-parse", "cli/pretty"])).Trim(),
            CliOutput.Str(run, "commit"));
    }

    [Fact]
    public async Task Run_JsonWithRootAndBranch_OneFlatObjectAndScriptRunsInTheRoot()
    {
        var result = await Cli.RunAsync("run", "--repo", server.RepoId, "--harness", "exec", "--create-branch", "--branch", "cli/json", "--root", "packages/api", "--json", "pwd");

        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        var run = CliOutput.SingleObject(result.StdOut);
        Assert.False(run.GetProperty("replayed").GetBoolean());
        Assert.Equal((server.RepoId, "exec", "pending", "packages/api"), (CliOutput.Str(run, "repoId"), CliOutput.Str(run, "harness"), CliOutput.Str(run, "status"), CliOutput.Str(run, "rootDirectory")));
        var branch = run.GetProperty("branch");
        Assert.Equal(("trunk", "cli/json", true), (CliOutput.Str(branch, "base"), CliOutput.Str(branch, "working"), branch.GetProperty("createBranch").GetBoolean()));
        var runId = CliOutput.Str(run, "runId");
        Assert.Equal($"/api/v1/mogplex/runs/{runId}/events", CliOutput.Str(run, "eventsUrl"));
        Assert.False(run.TryGetProperty("ok", out _));
        Assert.False(run.TryGetProperty("data", out _));

        Assert.Equal("success", await server.WaitForEndAsync(runId));
        var printed = Assert.Single(await server.EventsAsync(runId), e => CliOutput.Str(e, "message").StartsWith('/'));
        Assert.EndsWith("/packages/api", CliOutput.Str(printed, "message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_PromptPipedOnStdin_ScriptReadFromStdinRuns()
    {
        var result = await Cli.RunAsync(["run", "--repo", server.RepoId, "--harness", "exec", "--json"], stdin: "echo prompt from stdin\n");

        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        var runId = CliOutput.Str(CliOutput.SingleObject(result.StdOut), "runId");
        Assert.Equal("success", await server.WaitForEndAsync(runId));
        Assert.Contains(await server.EventsAsync(runId), e => CliOutput.Str(e, "message") == "prompt from stdin");
    }

    /// <summary>A flag takes no value: a prompt that reads "true" after <c>--json</c> or <c>--create-branch</c> is still the prompt.</summary>
    [Theory]
    [InlineData("--json")]
    [InlineData("--create-branch")]
    public async Task Run_PromptTrueRightAfterAFlag_IsThePromptNotTheFlagsValue(string flag)
    {
        var result = await Cli.RunAsync("run", "--repo", server.RepoId, "--harness", "exec", flag, "true");

        Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
        var runId = Regex.Match(result.StdOut, "([0-9a-f-]{36})").Groups[1].Value;
        Assert.Equal("success", await server.WaitForEndAsync(runId));
        var run = await server.GetRunAsync(runId);
        Assert.Equal(flag == "--create-branch", run.GetProperty("branch").GetProperty("createBranch").GetBoolean());
    }

    [Fact]
    public async Task Run_SameIdempotencyKeyTwice_SecondPrintsMatchedExistingRun()
    {
        string[] args = ["run", "--repo", server.RepoId, "--harness", "exec", "--idempotency-key", "cli-replay-1", "echo replay"];

        var first = CliOutput.Lines(await Cli.RunCheckedAsync(args));
        var second = await Cli.RunAsync(args);

        var runId = first[0]["started run ".Length..first[0].IndexOf(' ', "started run ".Length)];
        Assert.Equal($"started run {runId} (pending)", first[0]);
        Assert.True(second.ExitCode == 0 && second.StdErr.Length == 0, second.ToString());
        var lines = CliOutput.Lines(second.StdOut);
        Assert.Matches($"^matched existing run {runId} \\((pending|streaming|success)\\)$", lines[0]);
        Assert.Equal(first.Skip(1), lines.Skip(1));
        Assert.Equal("success", await server.WaitForEndAsync(runId));
        Assert.Equal($"matched existing run {runId} (success)", CliOutput.Lines(await Cli.RunCheckedAsync(args))[0]);
    }

    [Fact]
    public async Task RunsGet_FinishedRuns_PrettyFieldsMatchFlatJson()
    {
        var ok = await server.StartRunAsync("echo fine");
        var broken = await server.StartRunAsync("echo about to fail; exit 3");
        Assert.Equal("success", await server.WaitForEndAsync(ok));
        Assert.Equal("failed", await server.WaitForEndAsync(broken));

        foreach (var (runId, status, error) in new[] { (ok, "success", (string?)null), (broken, "failed", "exec harness exited with code 3") })
        {
            var run = await server.GetRunAsync(runId);
            Assert.Equal((runId, status), (CliOutput.Str(run, "runId"), CliOutput.Str(run, "status")));
            Assert.False(run.TryGetProperty("run", out _));
            List<string> expected =
            [
                $"run     {runId}",
                $"status  {status}",
                "harness exec",
                $"repo    {server.RepoId}",
                "branch  trunk (base trunk)",
                $"sandbox {CliOutput.Str(run, "sandboxId")}",
                $"events  /api/v1/mogplex/runs/{runId}/events",
                $"cancel  /api/v1/mogplex/runs/{runId}/cancel",
                $"created {CliOutput.Str(run, "createdAt")}",
                $"updated {CliOutput.Str(run, "updatedAt")}",
            ];
            if (error is not null)
            {
                Assert.Equal(error, CliOutput.Str(run, "error"));
                expected.Add($"error   {error}");
            }

            Assert.StartsWith("sbx_", CliOutput.Str(run, "sandboxId"), StringComparison.Ordinal);
            Assert.Equal(expected, CliOutput.Lines(await Cli.RunCheckedAsync("runs", "get", runId)));
        }
    }

    [Fact]
    public async Task RunsEvents_Listing_OneLinePerStoredEventOldestFirst()
    {
        var runId = await server.StartRunAsync("echo one; echo two; echo three");
        Assert.Equal("success", await server.WaitForEndAsync(runId));

        var events = await server.EventsAsync(runId);
        var pretty = CliOutput.Lines(await Cli.RunCheckedAsync("runs", "events", runId));

        Assert.Equal(events.Select(CliOutput.EventLine), pretty);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(("started", "Run accepted"), (CliOutput.Str(events[0], "type"), CliOutput.Str(events[0], "message")));
        Assert.Equal("finished", CliOutput.Str(events[^1], "type"));
        Assert.Equal(["one", "two", "three"], events.Select(e => CliOutput.Str(e, "message")).Where(m => m is "one" or "two" or "three"));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  started            Run accepted$", pretty[0]);

        var limited = CliOutput.Lines(await Cli.RunCheckedAsync("runs", "events", runId, "--limit", "2"));
        Assert.Equal(pretty.Take(2), limited);
    }

    [Fact]
    public async Task RunsEventsFollow_OverTheLiveStream_EachEventOnceThenTheEndLine()
    {
        var runId = await server.StartRunAsync("for i in 1 2 3 4 5; do echo step $i; sleep 0.2; done");

        // Two followers at once, from the start of the run: one for people, one for machines.
        var follow = Task.Run(() => server.FollowAsync(runId), TestContext.Current.CancellationToken);
        var followJson = Task.Run(() => server.FollowAsync(runId, json: true), TestContext.Current.CancellationToken);
        var pretty = CliOutput.Lines((await follow.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken)).StdOut);
        var json = CliOutput.JsonLines((await followJson.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken)).StdOut);

        var events = await server.EventsAsync(runId);
        Assert.Equal([.. events.Select(CliOutput.EventLine), $"--- run {runId} success ---"], pretty);
        Assert.Equal(events.Select(e => e.GetRawText()), json.SkipLast(1).Select(e => e.GetRawText()));
        Assert.Equal($$"""{"runId":"{{runId}}","status":"success"}""", json[^1].GetRawText());
        Assert.Equal(["step 1", "step 2", "step 3", "step 4", "step 5"], events.Select(e => CliOutput.Str(e, "message")).Where(m => m.StartsWith("step ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunsList_Filters_RepoStatusLimitTableAndJson()
    {
        var ok = await server.StartRunAsync("true", server.OtherRepoId);
        Assert.Equal("success", await server.WaitForEndAsync(ok));
        var broken = await server.StartRunAsync("exit 1", server.OtherRepoId, extra: ["--create-branch", "--branch", "cli/list"]);
        Assert.Equal("failed", await server.WaitForEndAsync(broken));
        var okRun = await server.GetRunAsync(ok);
        var brokenRun = await server.GetRunAsync(broken);

        var table = CliOutput.Table(await Cli.RunCheckedAsync("runs", "list", "--repo", server.OtherRepoId), s_runColumns);
        Assert.Equal(
            [
                [broken, "failed", "exec", server.OtherRepoId, "cli/list", CliOutput.Str(brokenRun, "createdAt")],
                [ok, "success", "exec", server.OtherRepoId, "trunk", CliOutput.Str(okRun, "createdAt")],
            ],
            table);

        var failed = CliOutput.Table(await Cli.RunCheckedAsync("runs", "list", "--repo", server.OtherRepoId, "--status", "failed"), s_runColumns);
        Assert.Equal(broken, Assert.Single(failed)[0]);
        var newest = CliOutput.Table(await Cli.RunCheckedAsync("runs", "list", "--repo", server.OtherRepoId, "--limit", "1"), s_runColumns);
        Assert.Equal(broken, Assert.Single(newest)[0]);
        var json = CliOutput.JsonLines(await Cli.RunCheckedAsync("runs", "list", "--repo", server.OtherRepoId, "--status", "success", "--json"));
        Assert.Equal(okRun.GetRawText(), Assert.Single(json).GetRawText());

        var everywhere = CliOutput.JsonLines(await Cli.RunCheckedAsync("runs", "list", "--status", "failed", "--limit", "200", "--json"));
        Assert.Contains(broken, everywhere.Select(r => CliOutput.Str(r, "runId")));
        Assert.All(everywhere, r => Assert.Equal("failed", CliOutput.Str(r, "status")));
    }

    [Fact]
    public async Task RunsCancel_SleepingRun_CancelledThenAlreadyCancelledExitZero()
    {
        var runId = await server.StartRunAsync("echo sleeping; sleep 300");
        await using var follower = Cli.Start("runs", "events", runId, "--follow");
        await follower.WaitForOutputAsync("  sleeping\n", TimeSpan.FromSeconds(60));

        var cancel = await Cli.RunAsync("runs", "cancel", runId);

        Assert.True(cancel.ExitCode == 0 && cancel.StdErr.Length == 0, cancel.ToString());
        Assert.Equal([$"cancellation requested for run {runId}", "status: cancelled"], CliOutput.Lines(cancel.StdOut));
        Assert.Equal(0, await follower.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal($"--- run {runId} cancelled ---", CliOutput.Lines(follower.StdOut)[^1]);

        var again = await Cli.RunAsync("runs", "cancel", runId);
        Assert.True(again.ExitCode == 0 && again.StdErr.Length == 0, again.ToString());
        Assert.Equal($"run {runId} is already cancelled\n", again.StdOut);

        var json = CliOutput.SingleObject(await Cli.RunCheckedAsync("runs", "cancel", runId, "--json"));
        Assert.Equal(["run", "status", "alreadyTerminal"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("cancelled", true, "cancelled"), (CliOutput.Str(json, "status"), json.GetProperty("alreadyTerminal").GetBoolean(), CliOutput.Str(json.GetProperty("run"), "status")));
        Assert.Equal(["cancel_requested", "cancelled"], (await server.EventsAsync(runId)).Select(e => CliOutput.Str(e, "type")).TakeLast(2));
    }

    [Fact]
    public async Task Sandboxes_ListThenStop_StoppedSandboxListedAsStopped()
    {
        var runId = await server.StartRunAsync("echo in a sandbox", extra: ["--create-branch", "--branch", "cli/sandbox"]);
        Assert.Equal("success", await server.WaitForEndAsync(runId));
        var sandboxId = CliOutput.Str(await server.GetRunAsync(runId), "sandboxRecordId");

        var listed = CliOutput.JsonLines(await Cli.RunCheckedAsync("sandboxes", "list", "--repo", server.RepoId, "--json"));
        var record = Assert.Single(listed, s => CliOutput.Str(s, "id") == sandboxId);
        Assert.Equal(("running", server.RepoId, "cli/sandbox", "trunk"), (CliOutput.Str(record, "status"), CliOutput.Str(record, "repo_id"), CliOutput.Str(record, "working_branch"), CliOutput.Str(record, "base_branch")));
        var table = CliOutput.Table(await Cli.RunCheckedAsync("sandboxes", "list", "--repo", server.RepoId), s_sandboxColumns);
        Assert.Contains([sandboxId, "running", server.RepoId, "cli/sandbox", CliOutput.Str(record, "last_active_at")], table);
        Assert.Equal(listed.Count, table.Count);

        var stop = await Cli.RunAsync("sandboxes", "stop", sandboxId);

        Assert.True(stop.ExitCode == 0 && stop.StdErr.Length == 0, stop.ToString());
        Assert.Equal($"stopped sandbox {sandboxId}\n", stop.StdOut);
        var stopped = CliOutput.JsonLines(await Cli.RunCheckedAsync("sandboxes", "list", "--status", "stopped", "--json"));
        Assert.Equal("stopped", CliOutput.Str(Assert.Single(stopped, s => CliOutput.Str(s, "id") == sandboxId), "status"));
        Assert.DoesNotContain(CliOutput.JsonLines(await Cli.RunCheckedAsync("sandboxes", "list", "--status", "running", "--json")), s => CliOutput.Str(s, "id") == sandboxId);
        Assert.Equal($"sandbox {sandboxId} was already stopped\n", await Cli.RunCheckedAsync("sandboxes", "stop", sandboxId));
    }

    [Fact]
    public async Task Help_EveryCommand_ExitZeroWithExample()
    {
        var root = await Cli.RunAsync("--help");
        Assert.True(root.ExitCode == 0, root.ToString());
        Assert.StartsWith("mogplex ", CliOutput.Lines(root.StdOut)[0], StringComparison.Ordinal);
        Assert.Matches(@"^mogplex \d+\.\d+\.\d+\S*\n$", await Cli.RunCheckedAsync("--version"));

        foreach (var command in new[] { "repos list", "run", "runs get", "runs events", "runs list", "runs cancel", "sandboxes list", "sandboxes stop" })
        {
            var help = await Cli.RunAsync([.. command.Split(' '), "--help"], stdin: null);
            Assert.True(help.ExitCode == 0 && help.StdErr.Length == 0, help.ToString());
            Assert.Contains("Example:", help.StdOut, StringComparison.Ordinal);
            Assert.Contains($"  mogplex {command} ", help.StdOut, StringComparison.Ordinal);
        }
    }
}
