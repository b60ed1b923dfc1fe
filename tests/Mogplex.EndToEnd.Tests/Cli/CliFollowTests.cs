using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// <c>mogplex runs events --follow</c> where the live stream is not the easy case: a server with
/// the stream switched off (polling), a connection dropped mid-run, and a server that dies and
/// comes back. In each, every event is printed exactly once, none is missing (checked against the
/// stored listing afterwards) and the end line carries the run's final status.
/// </summary>
public sealed class CliFollowTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Follow_EventStreamSwitchedOff_PollsEveryEventOnceThenEndLine()
    {
        await using var server = new CliServer(new Dictionary<string, string?> { ["MOGPLEXD_Api__EventStream"] = "false" }, "polled");
        await server.InitializeAsync();
        var runId = await server.StartRunAsync("for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.4; done");

        var follow = Task.Run(() => server.FollowAsync(runId), TestContext.Current.CancellationToken);
        var followJson = Task.Run(() => server.FollowAsync(runId, json: true), TestContext.Current.CancellationToken);
        var pretty = CliOutput.Lines((await follow.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken)).StdOut);
        var json = CliOutput.JsonLines((await followJson.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken)).StdOut);

        // The server really offers no stream: an SSE request gets the JSON page.
        var sse = await Curl.SendAsync(server.Server, Transport.UnixSocket, "GET", $"{Curl.ApiBase}/runs/{runId}/events", server.Token, headers: new Dictionary<string, string> { ["Accept"] = "text/event-stream" });
        Assert.StartsWith("{\"ok\":true", sse.Body, StringComparison.Ordinal);
        var events = await server.EventsAsync(runId);
        Assert.Equal([.. events.Select(CliOutput.EventLine), $"--- run {runId} success ---"], pretty);
        Assert.Equal(events.Select(e => CliOutput.Str(e, "id")), json.SkipLast(1).Select(e => CliOutput.Str(e, "id")));
        Assert.Equal($$"""{"runId":"{{runId}}","status":"success"}""", json[^1].GetRawText());
        Assert.Equal(6, events.Count(e => CliOutput.Str(e, "message").StartsWith("tick ", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The network drops the stream while the run goes on (a proxy cuts the connection): the
    /// follower reconnects from the last event it printed and sees the run succeed.
    /// </summary>
    [Fact]
    public async Task Follow_ConnectionDroppedMidRun_ReconnectsWithoutGapsOrDuplicates()
    {
        await using var server = new CliServer(repoName: "dropped");
        await server.InitializeAsync();
        await using var proxy = new TcpDropProxy(server.Server.BaseAddress);
        var cli = server.Cli.With("MOGPLEX_URL", $"http://127.0.0.1:{proxy.Port}").With("MOGPLEX_DEV", "1");
        var runId = await server.StartRunAsync("for i in $(seq 1 30); do echo line $i; sleep 0.1; done");
        await using var follower = cli.Start("runs", "events", runId, "--follow", "--timeout", "120");
        await follower.WaitForOutputAsync("  line 5\n", s_wait);

        Assert.True(proxy.DropConnections() >= 1);

        Assert.Equal(0, await follower.WaitForExitAsync(s_wait));
        Assert.True(proxy.Accepted >= 2, $"the follower did not reconnect (connections: {proxy.Accepted})\n{follower.StdErr}");
        Assert.Equal("", follower.StdErr);
        var events = await server.EventsAsync(runId);
        Assert.Equal([.. events.Select(CliOutput.EventLine), $"--- run {runId} success ---"], CliOutput.Lines(follower.StdOut));
        Assert.Equal(30, events.Count(e => CliOutput.Str(e, "message").StartsWith("line ", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The server dies under the follower and comes back. A run does not survive its server: one
    /// left active is failed <c>interrupted: mogplexd stopped</c> (engine.md § Restart). SIGKILL
    /// rather than SIGTERM, because on SIGTERM the stopping server itself records that failure and
    /// can still send it (and the end) on the open stream, so nothing would prove a reconnect;
    /// after SIGKILL only the restarted server writes the <c>failed</c> event, so a follower that
    /// prints it has reconnected, and it must not print an event of the first server twice.
    /// </summary>
    [Fact]
    public async Task Follow_ServerKilledAndRestarted_ReconnectsAndEndsWithFailedStatus()
    {
        await using var server = new CliServer(repoName: "restarted");
        await server.InitializeAsync();
        var runId = await server.StartRunAsync("for i in $(seq 1 600); do echo line $i; sleep 0.1; done");
        await using var follower = server.Cli.Start("runs", "events", runId, "--follow", "--timeout", "120");
        await follower.WaitForOutputAsync("  line 3\n", s_wait);

        await server.Server.SignalAsync("KILL");
        await server.Server.WaitForExitAsync(MogplexdProcess.StopTimeout);
        await server.RestartAsync();

        Assert.Equal(0, await follower.WaitForExitAsync(s_wait));
        Assert.Equal("", follower.StdErr);
        var events = await server.EventsAsync(runId);
        Assert.Equal(("failed", "interrupted: mogplexd stopped"), (CliOutput.Str(events[^1], "type"), CliOutput.Str(events[^1], "message")));
        Assert.Equal([.. events.Select(CliOutput.EventLine), $"--- run {runId} failed ---"], CliOutput.Lines(follower.StdOut));
        Assert.Equal("failed", CliOutput.Str(await server.GetRunAsync(runId), "status"));
    }
}
