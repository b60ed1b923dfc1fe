using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Testing;

namespace Mogplex.Server.Tests.Engine;

/// <summary>Cancellation in every phase, timeouts and isolation canaries, with real processes and git.</summary>
public sealed class RunLifecycleTests
{
    private static Dictionary<string, string?> Engine(string isolation = "none", params (string Key, string Value)[] more)
    {
        // Tests poll the API while runs work: the per-token request limit is not what they test.
        var config = new Dictionary<string, string?> { ["Runs:Workers"] = "true", ["Sandbox:Isolation"] = isolation, ["RateLimits:RequestsPerWindow"] = "100000" };
        foreach (var (k, v) in more)
        {
            config[k] = v;
        }

        return config;
    }

    private static async Task<string> StartAsync(HttpClient client, string repo, string prompt, string? branch = null) =>
        (await ApiClient.StartRunAsync(client, branch is null
            ? new { repoId = repo, harness = "exec", prompt }
            : new { repoId = repo, harness = "exec", prompt, createBranch = true, workingBranch = branch })).Data.GetProperty("runId").GetString()!;

    private static async Task<JsonElement> CancelAsync(HttpClient client, string runId) => (await ApiClient.PostAsync(client, $"/runs/{runId}/cancel")).Data;

    [Fact]
    public async Task Cancel_WhileQueuedBehindABusyWorker_CancelledAndNeverStarted()
    {
        await using var server = await ServerFixture.StartAsync(Engine(more: ("Runs:MaxConcurrent", "1")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var busy = await StartAsync(client, repo, "echo busy\nsleep 300");
        await Waits.UntilAsync(() => EngineTestKit.AllEventsAsync(client, busy), e => e.Any(x => x.GetProperty("message").GetString() == "busy"), what: "the busy run");

        var queued = await StartAsync(client, repo, "echo should-never-run");
        var cancelled = await CancelAsync(client, queued);
        await CancelAsync(client, busy);

        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        var events = await EngineTestKit.AllEventsAsync(client, queued);
        // A worker's pass may have announced the wait before the cancel came (issue #13): one
        // "Waiting for ..." log (its branch is the busy run's), before the cancel; nothing of the run itself ever ran.
        var waiting = events.Where(e => e.GetProperty("type").GetString() == "log").ToList();
        Assert.True(waiting.Count <= 1 && waiting.All(e => e.GetProperty("payload").GetProperty("stage").GetString() == "queue"), string.Join("\n", events));
        Assert.Equal(["started", .. waiting.Select(_ => "log"), "cancel_requested", "cancelled"], events.Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Cancel_WhilePreparing_InstallCommandKilledAndRunCancelled()
    {
        await using var server = await ServerFixture.StartAsync(Engine());
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var marker = "mogplex-install-" + Guid.NewGuid().ToString("N");
        await SetInstallCommandAsync(server, repo, $"bash -c 'sleep 300; true' {marker}");

        var runId = await StartAsync(client, repo, "echo never");
        await Waits.UntilAsync(async () => (await server.Store.Sandboxes.ListAsync(new Storage.SandboxQuery(null, repo, "installing", 10), ServerFixture.Ct)).Count, n => n == 1, what: "the install step");
        var cancelled = await CancelAsync(client, runId);

        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Empty(ProcessTable.ProcessesUnder(Path.Combine(server.DataDir, "sandboxes")));
        Assert.DoesNotContain("status_changed", (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Cancel_WhileDelivering_PushStoppedAndRunCancelled()
    {
        await using var server = await ServerFixture.StartAsync(Engine());
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var started = Path.Combine(server.DataDir, "hook-started");
        var hook = Path.Combine(source, "hooks", "pre-receive");
        await File.WriteAllTextAsync(hook, $"#!/bin/sh\ntouch '{started}'\nexec sleep 300\n", ServerFixture.Ct);
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var runId = await StartAsync(client, repo, "echo change > change.txt", "w/deliver");
        await Waits.UntilAsync(() => Task.FromResult(File.Exists(started)), e => e, what: "the push to reach the source");
        var cancelled = await CancelAsync(client, runId);

        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/deliver"));
    }

    [Fact]
    public async Task Timeout_LongerThanMaxDuration_FailedWithReasonAndProcessGone()
    {
        await using var server = await ServerFixture.StartAsync(Engine(more: ("Runs:MaxDuration", "00:00:02")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var runId = await StartAsync(client, repo, "sleep 300");
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("timed out after 00:00:02", run.GetProperty("error").GetString());
        Assert.Empty(ProcessTable.ProcessesUnder(Path.Combine(server.DataDir, "sandboxes")));
    }

    [Fact]
    public async Task Isolation_Bubblewrap_HarnessCannotSeeDataFolderOrOtherSandboxesOrWriteOutside()
    {
        await using var server = await ServerFixture.StartAsync(Engine("bwrap"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var first = await StartAsync(client, repo, "echo private > secret-of-first.txt\ngit add -A", "w/first");
        var firstRun = await EngineTestKit.WaitTerminalAsync(client, first);
        var otherSandbox = Path.Combine(server.DataDir, "sandboxes", firstRun.GetProperty("sandboxRecordId").GetString()!);
        Assert.True(Directory.Exists(otherSandbox));
        var outside = Path.Combine(Path.GetTempPath(), "mogplex-escape-" + Guid.NewGuid().ToString("N"));
        var database = Path.Combine(server.DataDir, "mogplex.db");
        var script = string.Join('\n',
            $"test -e '{database}' && echo LEAK-database-visible",
            $"cat '{database}' >/dev/null 2>&1 && echo LEAK-database-readable",
            $"ls '{otherSandbox}/repo' >/dev/null 2>&1 && echo LEAK-other-sandbox",
            $"touch '{outside}' 2>/dev/null && echo wrote-private-tmp",
            "touch /usr/mogplex-escape 2>/dev/null && echo LEAK-wrote-system",
            "echo inside > mine.txt && echo wrote-own-sandbox",
            "echo probe-done");

        var probe = await StartAsync(client, repo, script, "w/probe");
        var run = await EngineTestKit.WaitTerminalAsync(client, probe);

        var messages = (await EngineTestKit.AllEventsAsync(client, probe)).Select(e => e.GetProperty("message").GetString() ?? "").ToList();
        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Contains("probe-done", messages);
        Assert.Contains("wrote-own-sandbox", messages);
        Assert.DoesNotContain(messages, m => m.StartsWith("LEAK", StringComparison.Ordinal));
        Assert.False(File.Exists(outside));
        Assert.False(File.Exists("/usr/mogplex-escape"));
    }

    internal static async Task SetInstallCommandAsync(ServerFixture server, string repoId, string command)
    {
        // The store has no "update repo" (the operator re-links); a test links a second record instead.
        var repo = (await server.Store.Repos.GetRepoAsync(repoId, null, ServerFixture.Ct))!;
        await server.Store.Repos.RemoveRepoAsync(repoId, server.Time.GetUtcNow(), ServerFixture.Ct);
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDir, "mogplex.db")}");
        await db.OpenAsync(ServerFixture.Ct);
        using var cmd = db.CreateCommand();
        cmd.CommandText = "UPDATE repos SET install_command = $c, removed_at = NULL WHERE id = $id";
        cmd.Parameters.AddWithValue("$c", command);
        cmd.Parameters.AddWithValue("$id", repo.Id);
        await cmd.ExecuteNonQueryAsync(ServerFixture.Ct);
    }
}
