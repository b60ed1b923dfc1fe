using System.Text.Json;
using Mogplex.Contracts;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>The v1 API through curl, over the Unix socket and over TCP: health, repos, a run's whole life.</summary>
public sealed class ApiTransportTests
{
    [Theory]
    [InlineData(Transport.UnixSocket)]
    [InlineData(Transport.Tcp)]
    public async Task RunLifecycle_OverTransport_StartReadStreamCancel(Transport transport)
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "api");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        // This test follows a run through the API while it stays pending: no workers execute it.
        var server = await mogplexd.StartServerAsync(new Dictionary<string, string?> { ["MOGPLEXD_Runs__Workers"] = "false" });

        var health = await Curl.GetAsync(server, transport, "/healthz");
        Assert.Equal(200, health.Status);
        var status = health.Json(MogplexJsonContext.Default.ApiEnvelopeHealthStatus);
        Assert.True(status.Ok);
        Assert.Equal("ok", status.Data.Status);
        Assert.Matches(@"^\d+\.\d+\.\d+", status.Data.Version);

        var repos = await Curl.GetAsync(server, transport, Curl.ApiBase + "/repos", token);
        Assert.Equal(200, repos.Status);
        var repo = Assert.Single(repos.Json(MogplexJsonContext.Default.ApiEnvelopeRepoList).Data.Repos);
        Assert.Equal((repoId, "acme/api", "trunk"), (repo.Id, repo.FullName, repo.DefaultBranch));

        var body = JsonSerializer.Serialize(new { repoId, prompt = "Add a health check" });
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "e2e-" + transport };
        var started = await Curl.SendAsync(server, transport, "POST", Curl.ApiBase + "/runs", token, body, key);
        Assert.Equal(202, started.Status);
        var run = started.Json(MogplexJsonContext.Default.ApiEnvelopeStartedRun).Data;
        Assert.False(run.Replayed);
        Assert.Equal((repoId, "codex", RunStatuses.Pending), (run.RepoId, run.Harness, run.Status));
        Assert.Equal(new RunBranch("trunk", "trunk", false), run.Branch);
        Assert.Equal($"{Curl.ApiBase}/runs/{run.RunId}/events", run.EventsUrl);
        Assert.Equal($"{Curl.ApiBase}/runs/{run.RunId}/cancel", run.CancelUrl);

        var replay = await Curl.SendAsync(server, transport, "POST", Curl.ApiBase + "/runs", token, body, key);
        Assert.Equal(202, replay.Status);
        var replayed = replay.Json(MogplexJsonContext.Default.ApiEnvelopeStartedRun).Data;
        Assert.True(replayed.Replayed);
        Assert.Equal(run.RunId, replayed.RunId);

        var noKey = await Curl.SendAsync(server, transport, "POST", Curl.ApiBase + "/runs", token, body);
        Assert.Equal(400, noKey.Status);
        Assert.Equal(new ApiError(ErrorCodes.BadRequest, "Idempotency-Key is required"), noKey.Json(MogplexJsonContext.Default.ApiErrorEnvelope).Error);

        var fetched = await Curl.GetAsync(server, transport, run.EventsUrl.Replace("/events", "", StringComparison.Ordinal), token);
        Assert.Equal(200, fetched.Status);
        var detail = fetched.Json(MogplexJsonContext.Default.ApiEnvelopeRunEnvelope).Data.Run;
        Assert.Equal((run.RunId, run.CreatedAt, RunStatuses.Pending), (detail.RunId, detail.CreatedAt, detail.Status));

        var page = await Curl.GetAsync(server, transport, run.EventsUrl, token);
        Assert.Equal(200, page.Status);
        var accepted = Assert.Single(page.Json(MogplexJsonContext.Default.ApiEnvelopeRunEventsPage).Data.Events);
        Assert.Equal((RunEventTypes.Started, "Run accepted", 1L), (accepted.Type, accepted.Message, accepted.Seq));

        var cancel = await Curl.SendAsync(server, transport, "POST", run.CancelUrl, token);
        Assert.Equal(200, cancel.Status);
        var cancelled = cancel.Json(MogplexJsonContext.Default.ApiEnvelopeCancelRunResult).Data;
        Assert.Equal((RunStatuses.Cancelled, false, RunStatuses.Cancelled), (cancelled.Status, cancelled.AlreadyTerminal, cancelled.Run.Status));

        var events = (await Curl.GetAsync(server, transport, run.EventsUrl, token)).Json(MogplexJsonContext.Default.ApiEnvelopeRunEventsPage).Data.Events;
        Assert.Equal([RunEventTypes.Started, RunEventTypes.CancelRequested, RunEventTypes.Cancelled], events.Select(e => e.Type));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Seq));

        var stream = await Curl.StreamAsync(server, transport, run.RunId, token);
        Assert.Equal(
            [(events[0].Id, "started"), (events[1].Id, "cancel_requested"), (events[2].Id, "cancelled"), ((string?)null, "end")],
            stream.Select(e => (e.Id, e.Event)));
        var streamed = JsonSerializer.Deserialize(stream[2].Data, MogplexJsonContext.Default.RunEvent)!;
        Assert.Equal((events[2].Id, events[2].Type, events[2].Message, events[2].Seq, events[2].CreatedAt), (streamed.Id, streamed.Type, streamed.Message, streamed.Seq, streamed.CreatedAt));
        Assert.Equal(new StreamEnd(run.RunId, RunStatuses.Cancelled), JsonSerializer.Deserialize(stream[^1].Data, MogplexJsonContext.Default.StreamEnd));

        var resumed = await Curl.StreamAsync(server, transport, run.RunId, token, lastEventId: events[1].Id);
        Assert.Equal(["cancelled", "end"], resumed.Select(e => e.Event));

        var again = await Curl.SendAsync(server, transport, "POST", run.CancelUrl, token);
        Assert.Equal(200, again.Status);
        Assert.True(again.Json(MogplexJsonContext.Default.ApiEnvelopeCancelRunResult).Data.AlreadyTerminal);

        var missing = await Curl.GetAsync(server, transport, $"{Curl.ApiBase}/runs/{Guid.NewGuid()}", token);
        Assert.Equal(404, missing.Status);
        Assert.Equal(new ApiError(ErrorCodes.NotFound, "Run not found"), missing.Json(MogplexJsonContext.Default.ApiErrorEnvelope).Error);

        var anonymous = await Curl.GetAsync(server, transport, Curl.ApiBase + "/repos");
        Assert.Equal(401, anonymous.Status);
        Assert.Equal(new ApiError(ErrorCodes.Unauthorized, "Unauthorized"), anonymous.Json(MogplexJsonContext.Default.ApiErrorEnvelope).Error);

        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task Serve_NewDataFolder_FolderIsOwnerOnlyAndSocketIsOwnerReadWrite()
    {
        await using var mogplexd = new MogplexdProcess();
        Assert.False(Directory.Exists(mogplexd.DataDir));

        var server = await mogplexd.StartServerAsync();

        const UnixFileMode ownerOnlyDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(ownerOnlyDir, File.GetUnixFileMode(mogplexd.DataDir));
        Assert.Equal(ownerOnlyDir, File.GetUnixFileMode(Path.Combine(mogplexd.DataDir, "repos")));
        Assert.Equal(ownerOnlyDir, File.GetUnixFileMode(Path.Combine(mogplexd.DataDir, "sandboxes")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.SocketPath));
        Assert.Equal(0, await server.StopAsync());
    }
}
