using System.Text.Json;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>What the server writes about requests: structured JSON lines, never a token.</summary>
public sealed class ServerLogTests
{
    [Fact]
    public async Task ServeDev_AuthenticatedRequests_LogsJsonLinesWithoutToken()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "logs");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(null, "--dev");

        Assert.Equal(200, (await Curl.GetAsync(server, Transport.Tcp, Curl.ApiBase + "/repos?q=" + token, token)).Status);
        Assert.Equal(200, (await Curl.GetAsync(server, Transport.UnixSocket, Curl.ApiBase + "/runs", token)).Status);
        var body = JsonSerializer.Serialize(new { repoId, prompt = "Fix the build" });
        var started = await Curl.SendAsync(server, Transport.Tcp, "POST", Curl.ApiBase + "/runs", token, body, new Dictionary<string, string> { ["Idempotency-Key"] = "log-test" });
        Assert.Equal(202, started.Status);
        Assert.Equal(404, (await Curl.GetAsync(server, Transport.Tcp, $"{Curl.ApiBase}/runs/{Guid.NewGuid()}", token)).Status);
        Assert.Equal(401, (await Curl.GetAsync(server, Transport.Tcp, Curl.ApiBase + "/repos", token[..^1] + "x")).Status);
        using (var client = server.CreateClient(token))
        {
            using var response = await client.GetAsync(new Uri(Curl.ApiBase + "/sandboxes", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, await server.StopAsync());

        var lines = server.StdErr.TrimEnd('\n').Split('\n');
        Assert.Contains(lines, l => l.Contains("\"GET /api/v1/mogplex/repos 200 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"POST /api/v1/mogplex/runs 202 ", StringComparison.Ordinal));
        foreach (var line in lines)
        {
            AssertJsonLogLine(line);
            Assert.DoesNotContain(token[4..], line, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(token[4..], server.StdOut, StringComparison.Ordinal);
        TokenCommandTests.AssertNoFileContains(mogplexd.DataDir, token);
    }

    /// <summary>One JSON object per line with the console formatter's fields.</summary>
    internal static void AssertJsonLogLine(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.True(doc.RootElement.TryGetProperty("LogLevel", out _), line);
            Assert.True(doc.RootElement.TryGetProperty("Category", out _), line);
            Assert.True(doc.RootElement.TryGetProperty("Message", out _), line);
        }
        catch (JsonException ex)
        {
            Assert.Fail($"log line is not JSON ({ex.Message}): {line}");
        }
    }
}
