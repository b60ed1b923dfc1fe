using System.Net;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Runs;

public sealed class StartRunTests
{
    [Fact]
    public async Task StartRun_ValidRequest_Accepts202WithPendingRunAndStartedEvent()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var client = server.Client(token);

        var reply = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "  Fix the build  " });

        Assert.Equal(HttpStatusCode.Accepted, reply.Status);
        Assert.False(reply.Data.GetProperty("replayed").GetBoolean());
        Assert.Equal("pending", reply.Data.GetProperty("status").GetString());
        Assert.Equal("codex", reply.Data.GetProperty("harness").GetString());
        Assert.Equal("main", reply.Data.GetProperty("branch").GetProperty("base").GetString());
        Assert.Equal("main", reply.Data.GetProperty("branch").GetProperty("working").GetString());
        Assert.Equal("2026-11-29T12:00:00.000Z", reply.Data.GetProperty("createdAt").GetString());
        var runId = reply.Data.GetProperty("runId").GetString()!;
        Assert.Equal($"/api/v1/mogplex/runs/{runId}/events", reply.Data.GetProperty("eventsUrl").GetString());

        var events = await ApiClient.GetAsync(client, $"/runs/{runId}/events");
        var only = Assert.Single(events.Data.GetProperty("events").EnumerateArray());
        Assert.Equal("started", only.GetProperty("type").GetString());
        Assert.Equal("Run accepted", only.GetProperty("message").GetString());
    }
}
