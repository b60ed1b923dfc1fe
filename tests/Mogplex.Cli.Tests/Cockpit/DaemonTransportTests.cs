using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Tests.Infrastructure;
using Mogplex.Client;
using Mogplex.Client.Streaming;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The daemon transport against servers the cockpit does not control: one without the
/// interactive routes (the hosted service: follow-ups, approvals and signals say so, cancel
/// works), and one the cockpit is not signed in to (the list waits for a token; a refused token is
/// never kept, an accepted one starts the list at once). The end-to-end tests cover a real mogplexd.
/// </summary>
public sealed class DaemonTransportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly ServerAddress s_address = ServerAddress.Http(new Uri("http://mogplex.test"));

    private static DaemonTransport Transport(MogplexClient client) =>
        new(client, new FollowOptions(new FakeTimeProvider(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)), attachRunId: null, onlyRepoId: null);

    [Fact]
    public async Task AServerWithoutInteractiveRuns_FollowUpsApprovalsAndSignalsSaySo_CancelWorks()
    {
        var handler = new StubHttpHandler();
        foreach (var path in new[] { "/runs/run-1/messages", "/runs/run-1/approvals/ap-1", "/runs/run-1/interrupt", "/runs/run-1/finish" })
        {
            handler.Post(path).Text(HttpStatusCode.NotFound, "text/html", "<html>Not Found</html>");
        }

        handler.Post("/runs/run-1/cancel").Ok("""{"runId":"run-1","status":"cancelled"}""");
        using var client = new MogplexClient(HttpClientFactory.Create(s_address, "test", handler), s_address, "token");
        await using var transport = Transport(client);

        Assert.Equal(DaemonTransport.NotInteractiveHere, await transport.SendAsync(new CockpitCommand.SendMessage("run-1", "more", Steer: false), Ct));
        Assert.Equal(DaemonTransport.NotInteractiveHere, await transport.SendAsync(new CockpitCommand.Decide("run-1", "ap-1", Approve: true, Reason: null), Ct));
        Assert.Equal(DaemonTransport.NotInteractiveHere, await transport.SendAsync(new CockpitCommand.Interrupt("run-1"), Ct));
        Assert.Equal(DaemonTransport.NotInteractiveHere, await transport.SendAsync(new CockpitCommand.Finish("run-1"), Ct));
        Assert.Null(await transport.SendAsync(new CockpitCommand.Cancel("run-1"), Ct));
        handler.Verify();
    }

    [Fact]
    public async Task NotSignedIn_TheListWaitsForAToken_ARefusedOneIsNotKept_AnAcceptedOneStartsTheList()
    {
        var handler = new StubHttpHandler();
        handler.Get("/runs?limit=30").Times(2).Respond((request, _) => Task.FromResult(Answer(request)));
        handler.Get("/runs?limit=1").Times(2).Respond((request, _) => Task.FromResult(Answer(request)));
        using var client = new MogplexClient(HttpClientFactory.Create(s_address, "test", handler), s_address, token: "");
        await using var transport = Transport(client);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var events = transport.ReadAsync(stop.Token).GetAsyncEnumerator(stop.Token);

        Assert.False(transport.SignedIn);
        Assert.Equal(TransportHealth.Connecting, (await NextHealthAsync(events)).Health);
        var offline = await NextHealthAsync(events);
        Assert.Equal(TransportHealth.Offline, offline.Health);
        Assert.Equal("not signed in: /login", offline.Detail);

        Assert.StartsWith("the server refused this token", await transport.SignInAsync("mog_wrong", Ct), StringComparison.Ordinal);
        Assert.False(transport.SignedIn);
        Assert.Null(await transport.SignInAsync("mog_right", Ct));
        Assert.True(transport.SignedIn);
        Assert.Equal(TransportHealth.Nominal, (await NextHealthAsync(events)).Health);

        // Every request carried the token of its moment: none, the refused one, then the right one.
        Assert.Equal([null, "Bearer mog_wrong", "Bearer mog_right", "Bearer mog_right"], handler.Requests.Select(r => r.Header("Authorization")));
        await stop.CancelAsync();
    }

    private static HttpResponseMessage Answer(RecordedRequest request)
    {
        return request.Header("Authorization") == "Bearer mog_right"
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"ok":true,"data":{"runs":[],"nextCursor":null}}""", Encoding.UTF8, "application/json") }
            : new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent("""{"ok":false,"error":{"code":"UNAUTHORIZED","message":"Missing or invalid token"}}""", Encoding.UTF8, "application/json") };
    }

    private static async Task<CockpitEvent.HealthChanged> NextHealthAsync(IAsyncEnumerator<CockpitEvent> events)
    {
        while (await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct))
        {
            if (events.Current is CockpitEvent.HealthChanged health)
            {
                return health;
            }
        }

        throw new InvalidOperationException("the transport's events ended");
    }
}
