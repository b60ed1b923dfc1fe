using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>POST /runs/{id}/cancel</c>: pending, terminal, streaming (bounded wait), idempotent.</summary>
public sealed class CancelRunTests
{
    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Cancel_PendingRun_CancelledAtOnceWithEvents()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(3));

        var data = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));

        ApiAssert.HasExactly(data, "run", "status", "alreadyTerminal");
        Assert.Equal("cancelled", data.GetProperty("status").GetString());
        Assert.False(data.GetProperty("alreadyTerminal").GetBoolean());
        var run = data.GetProperty("run");
        Assert.Equal(id, run.GetProperty("runId").GetString());
        Assert.Equal("cancelled", run.GetProperty("status").GetString());
        Assert.Equal("2026-11-29T12:00:03.000Z", run.GetProperty("finishedAt").GetString());
        Assert.Equal("2026-11-29T12:00:03.000Z", run.GetProperty("updatedAt").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("startedAt").ValueKind);

        var events = Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events")));
        Assert.Equal(["started", "cancel_requested", "cancelled"], events.Select(e => e.Type));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Seq));
        var stored = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}")).GetProperty("run");
        Assert.Equal("cancelled", stored.GetProperty("status").GetString());
        Assert.Equal("2026-11-29T12:00:03.000Z", stored.GetProperty("finishedAt").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Cancel_Twice_SecondIsAlreadyTerminalAndAddsNothing()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        var first = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));
        server.Time.Advance(TimeSpan.FromMinutes(1));

        var second = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));

        Assert.Equal("cancelled", second.GetProperty("status").GetString());
        Assert.True(second.GetProperty("alreadyTerminal").GetBoolean());
        Assert.Equal(first.GetProperty("run").GetRawText(), second.GetProperty("run").GetRawText());
        Assert.Equal(3, Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"))).Count);
    }

    [Theory(Timeout = TestTimeouts.Api)]
    [InlineData("success")]
    [InlineData("failed")]
    public async Task Cancel_FinishedRun_AlreadyTerminalWithItsStatus(string terminal)
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.MakeStreamingAsync(id);
        await server.Store.Runs.TransitionAsync(new RunTransition { RunId = id, From = [RunStatuses.Streaming], To = terminal, At = server.Time.GetUtcNow() }, ServerFixture.Ct);
        var before = Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"))).Count;

        var data = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));

        Assert.Equal(terminal, data.GetProperty("status").GetString());
        Assert.True(data.GetProperty("alreadyTerminal").GetBoolean());
        Assert.Equal(terminal, data.GetProperty("run").GetProperty("status").GetString());
        Assert.Equal(before, Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"))).Count);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Cancel_StreamingRunThatDoesNotStop_AnswersStreamingAfterBoundedWait_RequestRecordedOnce()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:CancelWaitSeconds"] = "1" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.MakeStreamingAsync(id);

        var first = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));
        var second = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));

        foreach (var data in new[] { first, second })
        {
            Assert.Equal("streaming", data.GetProperty("status").GetString());
            Assert.False(data.GetProperty("alreadyTerminal").GetBoolean());
            Assert.Equal("streaming", data.GetProperty("run").GetProperty("status").GetString());
        }

        var events = Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events")));
        Assert.Equal(["started", "status_changed", "cancel_requested"], events.Select(e => e.Type));
        Assert.NotNull((await server.Store.Runs.GetRunAsync(id, null, ServerFixture.Ct))!.CancelRequestedAt);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Cancel_StreamingRunStoppedByWorkerWhileWaiting_AnswersCancelled()
    {
        // A long wait: if the answer is "cancelled", it came from the worker's transition, not the timeout.
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:CancelWaitSeconds"] = "25" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.MakeStreamingAsync(id);

        var cancel = ApiClient.PostAsync(client, $"/runs/{id}/cancel");
        await Waits.UntilAsync(
            () => server.Store.Runs.GetRunAsync(id, null, ServerFixture.Ct),
            r => r!.CancelRequestedAt is not null,
            TimeSpan.FromSeconds(10),
            "cancel_requested recorded");
        var moved = await server.Store.Runs.TransitionAsync(
            new RunTransition
            {
                RunId = id,
                From = [RunStatuses.Streaming],
                To = RunStatuses.Cancelled,
                At = server.Time.GetUtcNow(),
                Error = "Cancelled by user",
                Events = [new NewRunEvent("cancelled", null, "Run cancelled", null)],
            },
            ServerFixture.Ct);
        Assert.NotNull(moved);
        var data = ApiAssert.Ok(await cancel);

        Assert.Equal("cancelled", data.GetProperty("status").GetString());
        Assert.False(data.GetProperty("alreadyTerminal").GetBoolean());
        Assert.Equal("cancelled", data.GetProperty("run").GetProperty("status").GetString());
        Assert.Equal("Cancelled by user", data.GetProperty("run").GetProperty("error").GetString());
        Assert.Equal(
            ["started", "status_changed", "cancel_requested", "cancelled"],
            Events(ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{id}/events"))).Select(e => e.Type));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Cancel_SignalsTheExecutor()
    {
        var signal = new RecordingSignal();
        await using var server = await ServerFixture.StartAsync(
            new Dictionary<string, string?> { ["Api:CancelWaitSeconds"] = "0" },
            services: s => s.AddSingleton<Mogplex.Server.Runs.IRunCancellationSignal>(signal));
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var id = await server.StartRunAsync(client, repo);
        await server.MakeStreamingAsync(id);

        var data = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/runs/{id}/cancel"));

        Assert.Equal("streaming", data.GetProperty("status").GetString());
        Assert.Equal([id], signal.Signalled);
    }

    private static List<(string Type, long Seq)> Events(JsonElement data) =>
        [.. data.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("seq").GetInt64()))];

    private sealed class RecordingSignal : Mogplex.Server.Runs.IRunCancellationSignal
    {
        private readonly List<string> _signalled = [];

        public IReadOnlyList<string> Signalled
        {
            get
            {
                lock (_signalled)
                {
                    return [.. _signalled];
                }
            }
        }

        public void Signal(string runId)
        {
            lock (_signalled)
            {
                _signalled.Add(runId);
            }
        }
    }
}
