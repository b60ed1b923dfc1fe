using System.Net;
using System.Net.Http.Json;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>Stopping and restarting the published server.</summary>
public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task Sigterm_WhileSseClientFollowsActiveRun_ServerExitsZero()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "stream");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(null, "--dev");
        using var client = server.CreateClient(token);
        var runId = await StartRunAsync(client, repoId, "sleep 60", "exec", "sse-key");

        await using var follower = BackgroundProcess.Start("curl", Curl.StreamArgs(server, Transport.Tcp, runId, token));
        await follower.WaitForOutputAsync("event: started", TimeSpan.FromSeconds(15));

        await server.SignalAsync("TERM");

        Assert.Equal(0, await server.WaitForExitAsync(MogplexdProcess.StopTimeout));

        // The server ended the stream (a complete chunked response, curl exit 0) instead of
        // holding it until the shutdown timeout aborts the connection (curl exit 56).
        Assert.Equal(0, await follower.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain("event: end", follower.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_SameDataFolder_KeepsRunsTokensAndIdempotencyKeys()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "durable");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();

        var first = await mogplexd.StartServerAsync();
        RunDetail created;
        using (var client = first.CreateClient(token))
        {
            var runId = await StartRunAsync(client, repoId, "Keep me", "codex", "restart-key");
            created = (await client.GetFromJsonAsync(RunPath(runId), MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, TestContext.Current.CancellationToken))!.Data.Run;
        }

        Assert.Equal(0, await first.StopAsync());

        var second = await mogplexd.StartServerAsync();
        using (var client = second.CreateClient(token))
        {
            using var response = await client.GetAsync(RunPath(created.RunId), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var again = (await response.Content.ReadFromJsonAsync(MogplexJsonContext.Default.ApiEnvelopeRunEnvelope, TestContext.Current.CancellationToken))!.Data.Run;
            Assert.Equal((created.RunId, created.RepoId, created.AiCallId, created.CreatedAt, created.Branch), (again.RunId, again.RepoId, again.AiCallId, again.CreatedAt, again.Branch));

            var replay = await StartRunResponseAsync(client, repoId, "Keep me", "codex", "restart-key");
            Assert.True(replay.Replayed);
            Assert.Equal(created.RunId, replay.RunId);
        }

        Assert.Equal(0, await second.StopAsync());
    }

    private static Uri RunPath(string runId) => new($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative);

    private static async Task<string> StartRunAsync(HttpClient client, string repoId, string prompt, string harness, string key) =>
        (await StartRunResponseAsync(client, repoId, prompt, harness, key)).RunId;

    private static async Task<StartedRun> StartRunResponseAsync(HttpClient client, string repoId, string prompt, string harness, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Curl.ApiBase + "/runs", UriKind.Relative))
        {
            Content = JsonContent.Create(new StartRunRequest { RepoId = repoId, Prompt = prompt, Harness = harness }, MogplexJsonContext.Default.StartRunRequest),
        };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        return System.Text.Json.JsonSerializer.Deserialize(text, MogplexJsonContext.Default.ApiEnvelopeStartedRun)!.Data;
    }
}
