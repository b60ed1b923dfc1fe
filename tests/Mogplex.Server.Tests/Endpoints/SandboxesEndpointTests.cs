using System.Net;
using System.Text.Json;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>/sandboxes</c>: create-or-reuse, list filters and order, logs, [beyond] stop.</summary>
public sealed class SandboxesEndpointTests
{
    private static readonly string[] s_recordFields =
        ["id", "sandbox_id", "repo_id", "status", "base_branch", "working_branch", "root_directory", "preview_url", "created_at", "last_active_at", "error"];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task CreateSandbox_202WithSnakeCaseRecordInCreating()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(defaultBranch: "develop", rootDirectory: "web");

        var data = ApiAssert.Ok(await ApiClient.PostAsync(client, "/sandboxes", JsonSerializer.Serialize(new { repoId = repo })), HttpStatusCode.Accepted);

        ApiAssert.HasExactly(data, "sandbox");
        var sandbox = data.GetProperty("sandbox");
        ApiAssert.HasExactly(sandbox, s_recordFields);
        Assert.True(Guid.TryParseExact(sandbox.GetProperty("id").GetString(), "D", out _));
        Assert.Equal(repo, sandbox.GetProperty("repo_id").GetString());
        Assert.Equal("creating", sandbox.GetProperty("status").GetString());
        Assert.Equal("develop", sandbox.GetProperty("base_branch").GetString());
        Assert.Equal("develop", sandbox.GetProperty("working_branch").GetString());
        Assert.Equal("web", sandbox.GetProperty("root_directory").GetString());
        Assert.Equal(JsonValueKind.Null, sandbox.GetProperty("preview_url").ValueKind);
        Assert.Equal(JsonValueKind.Null, sandbox.GetProperty("error").ValueKind);
        Assert.Equal("2026-11-29T12:00:00.000Z", sandbox.GetProperty("created_at").GetString());
        Assert.Equal("2026-11-29T12:00:00.000Z", sandbox.GetProperty("last_active_at").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task CreateSandbox_SameRepoBranchAndRoot_ReusesActiveSandbox()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var first = await CreateAsync(client, new { repoId = repo, workingBranch = "feat/a" });
        server.Time.Advance(TimeSpan.FromSeconds(5));
        var again = await CreateAsync(client, new { repoId = repo, workingBranch = " feat/a ", rootDirectory = "./" });
        var otherBranch = await CreateAsync(client, new { repoId = repo, workingBranch = "feat/b" });
        var otherRoot = await CreateAsync(client, new { repoId = repo, workingBranch = "feat/a", rootDirectory = "apps" });

        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(first.GetProperty("sandbox_id").GetString(), again.GetProperty("sandbox_id").GetString());
        Assert.NotEqual(first.GetProperty("id").GetString(), otherBranch.GetProperty("id").GetString());
        Assert.NotEqual(first.GetProperty("id").GetString(), otherRoot.GetProperty("id").GetString());
        Assert.Equal(3, Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes"))).Count);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task CreateSandbox_AfterStop_CreatesANewOne()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var first = await server.CreateSandboxAsync(client, repo);
        ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{first}/stop"));

        var second = await server.CreateSandboxAsync(client, repo);

        Assert.NotEqual(first, second);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task CreateSandbox_Invalid_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        (string Body, string Message)[] cases =
        [
            ("{}", "repoId is required"),
            ("""{"repoId":""}""", "repoId is required"),
            ("""{"repoId":7}""", "repoId is required"),
            ("""{"repoId":"$REPO","baseBranch":"a..b"}""", "Invalid base branch"),
            ("""{"repoId":"$REPO","workingBranch":"HEAD"}""", "Invalid working branch"),
            ("""{"repoId":"$REPO","baseBranch":"-x"}""", "Invalid base branch"),
            ("""{"repoId":"$REPO","workingBranch":"--force"}""", "Invalid working branch"),
            ("""{"repoId":"$REPO","createBranch":true}""", "Invalid working branch"),
            ("""{"repoId":"$REPO","workingBranch":"main","createBranch":true}""", "Working branch must differ from base branch when createBranch is true"),
            ("""{"repoId":"$REPO","rootDirectory":"../up"}""", "Invalid root directory"),
            ("""{"repoId":"$REPO","rootDirectory":"/abs"}""", "Invalid root directory"),
            ("nope", "Invalid JSON body"),
            ("[]", "Invalid JSON body"),
            ("", "Invalid JSON body"),
        ];

        await Cases.CheckAllAsync(cases, async c =>
        {
            var reply = await ApiClient.PostAsync(client, "/sandboxes", c.Body.Replace("$REPO", repo, StringComparison.Ordinal));
            ApiAssert.Error(reply, HttpStatusCode.BadRequest, "BAD_REQUEST", c.Message);
        });

        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes"))));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListSandboxes_OrderedByLastActiveNewestFirst_WithFilters()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repoA = await server.CreateRepoAsync(fullName: "acme/a");
        var repoB = await server.CreateRepoAsync(fullName: "acme/b");
        var s1 = await server.CreateSandboxAsync(client, repoA, "one");
        server.Time.Advance(TimeSpan.FromSeconds(1));
        var s2 = await server.CreateSandboxAsync(client, repoB, "two");
        server.Time.Advance(TimeSpan.FromSeconds(1));
        var s3 = await server.CreateSandboxAsync(client, repoA, "three");

        var listed = ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes"));
        ApiAssert.HasExactly(listed, "sandboxes");
        Assert.Equal([s3, s2, s1], Ids(listed));
        ApiAssert.HasExactly(listed.GetProperty("sandboxes")[0], s_recordFields);

        // Stopping s1 makes it the most recently active.
        server.Time.Advance(TimeSpan.FromSeconds(1));
        ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{s1}/stop"));
        Assert.Equal([s1, s3, s2], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes"))));

        Assert.Equal([s1, s3], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/sandboxes?repo_id={repoA}"))));
        Assert.Equal([s3, s2], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?status=creating"))));
        Assert.Equal([s1], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?status=stopped"))));
        Assert.Equal([s3], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/sandboxes?status=creating&repo_id={repoA}"))));
        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?status=running"))));
        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?repo_id=nope"))));
        Assert.Equal([s1], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?limit=0"))));
        Assert.Equal([s1, s3], Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?limit=2"))));
        Assert.Equal(3, Ids(ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes?limit=1000"))).Count);
        ApiAssert.Error(await ApiClient.GetAsync(client, "/sandboxes?limit=many"), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid limit");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListSandboxes_InvalidStatus_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        await Cases.CheckAllAsync(
            ["Creating", "active", "creat", "creating,stopped", "stopped "],
            async status => ApiAssert.Error(await ApiClient.GetAsync(client, "/sandboxes?status=" + Uri.EscapeDataString(status)), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid status"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task SandboxLogs_RecordWithLogsAndLifecycleEvents()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.CreateSandboxAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(2));
        var at = server.Time.GetUtcNow();
        await server.Store.Sandboxes.UpdateAsync(
            new SandboxUpdate
            {
                Id = id,
                Status = "installing",
                At = at,
                InstallLog = "npm ci\nadded 12 packages",
                Lifecycle = SandboxLifecycle.Record(id, "install_started", "install", at, workerRunId: "worker-7", payloadJson: """{"command":"npm ci","attempt":1}"""),
            },
            ServerFixture.Ct);

        var data = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/sandboxes/{id}/logs"));

        ApiAssert.HasExactly(data, "sandbox", "lifecycle_events");
        var sandbox = data.GetProperty("sandbox");
        ApiAssert.HasExactly(sandbox, [.. s_recordFields, "install_log", "dev_log"]);
        Assert.Equal(id, sandbox.GetProperty("id").GetString());
        Assert.Equal("installing", sandbox.GetProperty("status").GetString());
        Assert.Equal("npm ci\nadded 12 packages", sandbox.GetProperty("install_log").GetString());
        Assert.Equal(JsonValueKind.Null, sandbox.GetProperty("dev_log").ValueKind);
        Assert.Equal("2026-11-29T12:00:02.000Z", sandbox.GetProperty("last_active_at").GetString());

        var events = data.GetProperty("lifecycle_events").EnumerateArray().ToList();
        Assert.Equal(2, events.Count);
        foreach (var e in events)
        {
            ApiAssert.HasExactly(e, "id", "event_type", "decision_code", "worker_run_id", "payload", "created_at");
            ApiAssert.IsTimestamp(e.GetProperty("created_at"));
        }

        Assert.Equal("requested", events[0].GetProperty("event_type").GetString());
        Assert.Equal("created", events[0].GetProperty("decision_code").GetString());
        Assert.Equal(JsonValueKind.Null, events[0].GetProperty("worker_run_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, events[0].GetProperty("payload").ValueKind);
        Assert.Equal("2026-11-29T12:00:00.000Z", events[0].GetProperty("created_at").GetString());
        Assert.Equal("install_started", events[1].GetProperty("event_type").GetString());
        Assert.Equal("install", events[1].GetProperty("decision_code").GetString());
        Assert.Equal("worker-7", events[1].GetProperty("worker_run_id").GetString());
        Assert.Equal("npm ci", events[1].GetProperty("payload").GetProperty("command").GetString());
        Assert.Equal(1, events[1].GetProperty("payload").GetProperty("attempt").GetInt32());
        Assert.Equal("2026-11-29T12:00:02.000Z", events[1].GetProperty("created_at").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StopSandbox_StopsThenIsIdempotent()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.CreateSandboxAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(4));

        var first = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{id}/stop"));
        server.Time.Advance(TimeSpan.FromSeconds(4));
        var second = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{id}/stop"));

        ApiAssert.HasExactly(first, "sandbox", "alreadyStopped");
        ApiAssert.HasExactly(first.GetProperty("sandbox"), s_recordFields);
        Assert.Equal("stopped", first.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.Equal("2026-11-29T12:00:04.000Z", first.GetProperty("sandbox").GetProperty("last_active_at").GetString());
        Assert.False(first.GetProperty("alreadyStopped").GetBoolean());
        Assert.Equal("stopped", second.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.True(second.GetProperty("alreadyStopped").GetBoolean());
        Assert.Equal(first.GetProperty("sandbox").GetRawText(), second.GetProperty("sandbox").GetRawText());

        var logs = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/sandboxes/{id}/logs"));
        Assert.Equal(
            ["requested", "stopped"],
            logs.GetProperty("lifecycle_events").EnumerateArray().Select(e => e.GetProperty("event_type").GetString()));
        Assert.Equal("user_stop", logs.GetProperty("lifecycle_events")[1].GetProperty("decision_code").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StopSandbox_InUseByActiveRun_409UntilTheRunIsCancelled()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:CancelWaitSeconds"] = "0" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var sandbox = await server.CreateSandboxAsync(client, repo);
        var run = await server.StartRunAsync(client, repo);
        await server.MakeStreamingAsync(run, sandboxRecordId: sandbox);

        var blocked = await ApiClient.PostAsync(client, $"/sandboxes/{sandbox}/stop");

        ApiAssert.Error(blocked, HttpStatusCode.Conflict, "CONFLICT", "Sandbox is in use by an active run");
        Assert.Equal("creating", ApiAssert.Ok(await ApiClient.GetAsync(client, $"/sandboxes/{sandbox}/logs")).GetProperty("sandbox").GetProperty("status").GetString());

        // A cancel request alone does not free it; the run reaching a terminal status does.
        ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{run}/cancel"));
        ApiAssert.Error(await ApiClient.PostAsync(client, $"/sandboxes/{sandbox}/stop"), HttpStatusCode.Conflict, "CONFLICT", "Sandbox is in use by an active run");
        await server.Store.Runs.TransitionAsync(new RunTransition { RunId = run, From = [RunStatuses.Streaming], To = RunStatuses.Cancelled, At = server.Time.GetUtcNow() }, ServerFixture.Ct);

        var stopped = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{sandbox}/stop"));
        Assert.Equal("stopped", stopped.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.False(stopped.GetProperty("alreadyStopped").GetBoolean());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StopSandbox_RemovesItsCheckout()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.CreateSandboxAsync(client, repo);
        var checkout = Path.Combine(server.DataDir, "sandboxes", id);
        Directory.CreateDirectory(checkout);
        await File.WriteAllTextAsync(Path.Combine(checkout, "file.txt"), "x", ServerFixture.Ct);
        await server.Store.Sandboxes.UpdateAsync(new SandboxUpdate { Id = id, Status = "running", At = server.Time.GetUtcNow(), Path = checkout }, ServerFixture.Ct);

        ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{id}/stop"));

        Assert.False(Directory.Exists(checkout));
    }

    private static async Task<JsonElement> CreateAsync(HttpClient client, object body) =>
        ApiAssert.Ok(await ApiClient.PostAsync(client, "/sandboxes", JsonSerializer.Serialize(body)), HttpStatusCode.Accepted).GetProperty("sandbox");

    private static List<string> Ids(JsonElement data) =>
        [.. data.GetProperty("sandboxes").EnumerateArray().Select(s => s.GetProperty("id").GetString()!)];
}
