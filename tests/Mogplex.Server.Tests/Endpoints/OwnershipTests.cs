using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary>Another user's resources are NOT_FOUND on every route; malformed ids are 404, never 500.</summary>
public sealed class OwnershipTests
{
    [Fact(Timeout = TestTimeouts.Api)]
    public async Task OtherUsersResources_404OnEveryRoute_AndNothingChanges()
    {
        await using var server = await ServerFixture.StartAsync();
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var aliceRepo = await server.CreateRepoAsync("alice", "alice/app");
        var run = await server.StartRunAsync(alice, aliceRepo);
        var sandbox = await server.CreateSandboxAsync(alice, aliceRepo);

        ApiAssert.Error(await ApiClient.GetAsync(bob, $"/runs/{run}"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
        ApiAssert.Error(await ApiClient.GetAsync(bob, $"/runs/{run}/events"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
        ApiAssert.Error(await ApiClient.SendAsync(bob, HttpMethod.Get, $"/runs/{run}/events", headers: new Dictionary<string, string> { ["Accept"] = "text/event-stream" }), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
        ApiAssert.Error(await ApiClient.PostAsync(bob, $"/runs/{run}/cancel"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
        ApiAssert.Error(await ApiClient.StartRunAsync(bob, new { repoId = aliceRepo, prompt = "x" }), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found");
        ApiAssert.Error(await ApiClient.GetAsync(bob, $"/sandboxes/{sandbox}/logs"), HttpStatusCode.NotFound, "NOT_FOUND", "Sandbox not found");
        ApiAssert.Error(await ApiClient.PostAsync(bob, $"/sandboxes/{sandbox}/stop"), HttpStatusCode.NotFound, "NOT_FOUND", "Sandbox not found");
        ApiAssert.Error(await ApiClient.PostAsync(bob, "/sandboxes", JsonSerializer.Serialize(new { repoId = aliceRepo })), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found");

        // Alice's things are untouched and still hers.
        var aliceRun = ApiAssert.Ok(await ApiClient.GetAsync(alice, $"/runs/{run}")).GetProperty("run");
        Assert.Equal("pending", aliceRun.GetProperty("status").GetString());
        Assert.Equal(1, ApiAssert.Ok(await ApiClient.GetAsync(alice, $"/runs/{run}/events")).GetProperty("events").GetArrayLength());
        var aliceSandbox = ApiAssert.Ok(await ApiClient.GetAsync(alice, $"/sandboxes/{sandbox}/logs"));
        Assert.Equal("creating", aliceSandbox.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.Equal(1, aliceSandbox.GetProperty("lifecycle_events").GetArrayLength());
        Assert.Single(ApiAssert.Ok(await ApiClient.GetAsync(alice, "/sandboxes")).GetProperty("sandboxes").EnumerateArray());
        Assert.Single(ApiAssert.Ok(await ApiClient.GetAsync(alice, "/runs")).GetProperty("runs").EnumerateArray());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Lists_NeverShowOtherUsersItems()
    {
        await using var server = await ServerFixture.StartAsync();
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var aliceRepo = await server.CreateRepoAsync("alice", "shared/name");
        var bobRepo = await server.CreateRepoAsync("bob", "shared/name");
        await server.StartRunAsync(alice, aliceRepo);
        await server.CreateSandboxAsync(alice, aliceRepo);
        var bobRun = await server.StartRunAsync(bob, bobRepo);
        var bobSandbox = await server.CreateSandboxAsync(bob, bobRepo);

        var repos = ApiAssert.Ok(await ApiClient.GetAsync(bob, "/repos")).GetProperty("repos");
        Assert.Equal([bobRepo], repos.EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Equal([bobRun], Ids(ApiAssert.Ok(await ApiClient.GetAsync(bob, "/runs")), "runs", "runId"));
        Assert.Equal([bobSandbox], Ids(ApiAssert.Ok(await ApiClient.GetAsync(bob, "/sandboxes")), "sandboxes", "id"));

        // Filtering by the other user's repo finds nothing rather than leaking it.
        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(bob, $"/runs?repo_id={aliceRepo}")), "runs", "runId"));
        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(bob, $"/sandboxes?repo_id={aliceRepo}")), "sandboxes", "id"));
        Assert.Empty(Ids(ApiAssert.Ok(await ApiClient.GetAsync(bob, "/runs?status=pending&repo_id=" + aliceRepo)), "runs", "runId"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task SameWorkingBranchForTwoUsers_TwoSandboxes()
    {
        await using var server = await ServerFixture.StartAsync();
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var aliceRepo = await server.CreateRepoAsync("alice");
        var bobRepo = await server.CreateRepoAsync("bob");

        var a = await server.CreateSandboxAsync(alice, aliceRepo);
        var b = await server.CreateSandboxAsync(bob, bobRepo);

        Assert.NotEqual(a, b);
    }

    private static readonly string[] s_malformedIds =
    [
        "abc",
        "123",
        "0198c0de00007000800000000000000a",
        "{0198c0de-0000-7000-8000-00000000000a}",
        "0198c0de-0000-7000-8000-00000000000a-",
        "0198c0de-0000-7000-8000-00000000000g",
        "..%2F..%2Fetc",
        "'%20OR%201=1--",
        new string('a', 2000),
        new string('9', 37),
        "00000000-0000-0000-0000-000000000000",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task MalformedOrUnknownId_404OnEveryIdRoute()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RequestsPerWindow"] = "1000" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        await server.StartRunAsync(client, repo);
        await server.CreateSandboxAsync(client, repo);

        await Cases.CheckAllAsync(s_malformedIds, async id =>
        {
            ApiAssert.Error(await ApiClient.GetAsync(client, $"/runs/{id}"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
            ApiAssert.Error(await ApiClient.GetAsync(client, $"/runs/{id}/events"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
            ApiAssert.Error(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");
            ApiAssert.Error(await ApiClient.GetAsync(client, $"/sandboxes/{id}/logs"), HttpStatusCode.NotFound, "NOT_FOUND", "Sandbox not found");
            ApiAssert.Error(await ApiClient.PostAsync(client, $"/sandboxes/{id}/stop"), HttpStatusCode.NotFound, "NOT_FOUND", "Sandbox not found");
            var decoded = Uri.UnescapeDataString(id);
            ApiAssert.Error(await ApiClient.StartRunAsync(client, new { repoId = decoded, prompt = "x" }), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found");
            ApiAssert.Error(await ApiClient.PostAsync(client, "/sandboxes", JsonSerializer.Serialize(new { repoId = decoded })), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found");
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task DotSegmentsAndExtraSegments_404Envelope()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        string[] paths = ["/runs/..", "/runs/%2E%2E", "/runs/%2e%2e/events", "/sandboxes/%2E%2E/stop", "/runs/../events", "/sandboxes/../logs", "/runs/a/b", "/runs/a/b/c/d"];

        await Cases.CheckAllAsync(paths.SelectMany(p => new[] { (HttpMethod.Get, p), (HttpMethod.Post, p) }), async c =>
        {
            // Dot segments are resolved before routing (by the client or the server), so the answer
            // may be "Run not found" or "Route not found"; either way a 404 envelope, never a 500.
            var reply = await ApiClient.SendAsync(client, c.Item1, c.Item2);
            Assert.Equal(HttpStatusCode.NotFound, reply.Status);
            Assert.False(reply.Json.GetProperty("ok").GetBoolean());
            Assert.Equal("NOT_FOUND", reply.ErrorCode);
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task UnknownRouteUnderBase_404Envelope()
    {
        await using var server = await ServerFixture.StartAsync();
        var authorized = server.Client(await server.CreateTokenAsync());
        (string Method, string Path)[] routes =
        [
            ("GET", "/api/v1/mogplex/nope"),
            ("GET", "/api/v1/mogplex/"),
            ("GET", "/api/v1/mogplex"),
            ("POST", "/api/v1/mogplex/repos"),
            ("GET", "/api/v1/mogplex/runs/x/y/z"),
            ("DELETE", "/api/v1/mogplex/runs"),
            ("DELETE", "/api/v1/mogplex/runs/0198c0de-0000-7000-8000-000000000000"),
            ("PUT", "/api/v1/mogplex/sandboxes"),
            ("GET", "/api/v1/mogplex/tokens"),
        ];

        await Cases.CheckAllAsync(routes.SelectMany(r => new[] { (r.Method, r.Path, Client: authorized), (r.Method, r.Path, Client: server.Client()) }), async c =>
        {
            var reply = await ApiClient.SendAsync(c.Client, new HttpMethod(c.Method), c.Path);
            ApiAssert.Error(reply, HttpStatusCode.NotFound, "NOT_FOUND", "Route not found");
        });
    }

    private static List<string> Ids(JsonElement data, string list, string field) =>
        [.. data.GetProperty(list).EnumerateArray().Select(r => r.GetProperty(field).GetString()!)];
}
