using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary>Cross-cutting protocol: request ids, body size limit, health, OpenAPI document.</summary>
public sealed class ProtocolTests
{
    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RequestId_Sane_EchoedOnEveryKindOfAnswer()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var anonymous = server.Client();

        await Cases.CheckAllAsync(["abc-123", "req_2026.11.29:0001", "0123456789abcdef0123456789abcdef", "A", new string('r', 128)], async id =>
        {
            var headers = new Dictionary<string, string> { ["X-Request-Id"] = id };
            Assert.Equal(id, (await ApiClient.SendAsync(client, HttpMethod.Get, "/repos", headers: headers)).Header("X-Request-Id"));
            Assert.Equal(id, (await ApiClient.SendAsync(anonymous, HttpMethod.Get, "/repos", headers: headers)).Header("X-Request-Id"));
            Assert.Equal(id, (await ApiClient.SendAsync(client, HttpMethod.Get, "/runs/nope", headers: headers)).Header("X-Request-Id"));
            Assert.Equal(id, (await ApiClient.SendAsync(client, HttpMethod.Post, "/runs", "{", headers)).Header("X-Request-Id"));
            Assert.Equal(id, (await ApiClient.SendAsync(client, HttpMethod.Get, "/nope", headers: headers)).Header("X-Request-Id"));
            Assert.Equal(id, (await ApiClient.SendAsync(client, HttpMethod.Get, "/healthz", headers: headers)).Header("X-Request-Id"));
        });
    }

    private const string Missing = "(missing)";

    private static readonly string[] s_insaneRequestIds =
    [
        Missing,
        "",
        new string('r', 129),
        new string('r', 5000),
        "has space",
        "semi;colon",
        "<script>",
        "new\\nline",
        "a/b",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RequestId_MissingOrInsane_FreshOneGenerated()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RequestsPerWindow"] = "1000" });
        var client = server.Client(await server.CreateTokenAsync());
        var anonymous = server.Client();

        await Cases.CheckAllAsync(s_insaneRequestIds, async given =>
        {
            var headers = given == Missing ? null : new Dictionary<string, string> { ["X-Request-Id"] = given };
            var first = (await ApiClient.SendAsync(client, HttpMethod.Get, "/repos", headers: headers)).Header("X-Request-Id");
            var second = (await ApiClient.SendAsync(client, HttpMethod.Get, "/repos", headers: headers)).Header("X-Request-Id");
            var unauthorized = (await ApiClient.SendAsync(anonymous, HttpMethod.Get, "/repos", headers: headers)).Header("X-Request-Id");
            Assert.Matches("^[0-9a-f]{32}$", first);
            Assert.Matches("^[0-9a-f]{32}$", second);
            Assert.Matches("^[0-9a-f]{32}$", unauthorized);
            Assert.NotEqual(first, second);
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Body_OverMaxBodyBytes_413WithBadRequestEnvelope()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:MaxBodyBytes"] = "2048" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var body = Encoding.UTF8.GetBytes($$"""{"repoId":"{{repo}}","prompt":"{{new string('x', 3000)}}"}""");
        (string Path, bool Chunked)[] cases = [("/runs", false), ("/runs", true), ("/sandboxes", false), ("/sandboxes", true)];

        await Cases.CheckAllAsync(cases, async c =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + c.Path) { Content = Content(body, c.Chunked) };
            request.Headers.Add("Idempotency-Key", "big");
            Assert.Equal(c.Chunked ? null : body.Length, request.Content.Headers.ContentLength);
            using var response = await client.SendAsync(request, ServerFixture.Ct);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal(
                """{"ok":false,"error":{"code":"BAD_REQUEST","message":"Request body exceeds the maximum size of 2048 bytes"}}""",
                await response.Content.ReadAsStringAsync(ServerFixture.Ct));
            Assert.True(response.Headers.Contains("X-Request-Id"));
        });

        Assert.Equal(0, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
        Assert.Equal(0, ApiAssert.Ok(await ApiClient.GetAsync(client, "/sandboxes")).GetProperty("sandboxes").GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Body_AtMaxBodyBytes_Accepted_AlsoWhenChunked()
    {
        // Kestrel counted chunk framing against its own limit, so a chunked body of 2040 bytes got 413.
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:MaxBodyBytes"] = "2048" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var prefix = $$"""{"repoId":"{{repo}}","prompt":" """.TrimEnd();

        await Cases.CheckAllAsync([(2048, false), (2048, true), (2040, true), (2047, true)], async c =>
        {
            var body = Encoding.UTF8.GetBytes(prefix + new string('x', c.Item1 - prefix.Length - 2) + "\"}");
            Assert.Equal(c.Item1, body.Length);
            using var request = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + "/runs") { Content = Content(body, c.Item2) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var response = await client.SendAsync(request, ServerFixture.Ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });

        // One byte over, even in many tiny chunks, is refused.
        using var over = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + "/runs")
        {
            Content = new TinyChunksContent(Encoding.UTF8.GetBytes(prefix + new string('x', 2049 - prefix.Length - 2) + "\"}")),
        };
        over.Headers.Add("Idempotency-Key", "over");
        using var refused = await client.SendAsync(over, ServerFixture.Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Body_FarOverDefaultLimit_ClientReceivesThe413NotABrokenConnection()
    {
        // With Kestrel enforcing the limit itself, an oversized body announced by Content-Length made
        // it drop the connection while the client was still sending: the client saw a broken pipe.
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var body = Encoding.UTF8.GetBytes($$"""{"repoId":"{{repo}}","prompt":"{{new string('x', 3 * 1024 * 1024)}}"}""");

        for (var i = 0; i < 6; i++)
        {
            var chunked = i % 2 == 1;
            using var request = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + "/runs") { Content = Content(body, chunked) };
            request.Headers.Add("Idempotency-Key", "big-" + i);
            using var response = await client.SendAsync(request, ServerFixture.Ct);

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal(
                """{"ok":false,"error":{"code":"BAD_REQUEST","message":"Request body exceeds the maximum size of 1048576 bytes"}}""",
                await response.Content.ReadAsStringAsync(ServerFixture.Ct));
        }
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Healthz_NoAuth_OkEnvelope()
    {
        await using var server = await ServerFixture.StartAsync();

        var reply = await ApiClient.GetAsync(server.Client(), "/healthz");

        var data = ApiAssert.Ok(reply);
        ApiAssert.HasExactly(data, "status", "version", "sandbox");
        Assert.Equal("ok", data.GetProperty("status").GetString());
        Assert.Matches("^(bwrap|none|unavailable)$", data.GetProperty("sandbox").GetProperty("isolation").GetString());
        Assert.False(string.IsNullOrWhiteSpace(data.GetProperty("version").GetString()));
        Assert.Matches("^[0-9a-f]{32}$", reply.Header("X-Request-Id"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task OpenApi_NoAuth_DocumentListsRunRoutes()
    {
        await using var server = await ServerFixture.StartAsync();

        var reply = await ApiClient.GetAsync(server.Client(), "/api/v1/mogplex/openapi.json");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("application/json", reply.Response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.", reply.Json.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = reply.Json.GetProperty("paths");
        Assert.Equal(JsonValueKind.Object, paths.GetProperty("/api/v1/mogplex/runs").ValueKind);
        Assert.Equal(JsonValueKind.Object, paths.GetProperty("/api/v1/mogplex/runs").GetProperty("post").ValueKind);
        Assert.Equal(JsonValueKind.Object, paths.GetProperty("/api/v1/mogplex/runs").GetProperty("get").ValueKind);
        Assert.Equal(JsonValueKind.Object, paths.GetProperty("/api/v1/mogplex/runs/{runId}/events").GetProperty("get").ValueKind);
        foreach (var p in new[] { "/api/v1/mogplex/repos", "/api/v1/mogplex/runs/{runId}", "/api/v1/mogplex/runs/{runId}/cancel", "/api/v1/mogplex/sandboxes", "/api/v1/mogplex/sandboxes/{id}/logs", "/api/v1/mogplex/sandboxes/{id}/stop", "/api/v1/mogplex/runs/{runId}/approvals" })
        {
            Assert.True(paths.TryGetProperty(p, out _), $"OpenAPI document lacks {p}");
        }

        // [beyond] deciding an approval: its body, its answer, and the 409 with the stored approval.
        var decide = paths.GetProperty("/api/v1/mogplex/runs/{runId}/approvals/{approvalId}").GetProperty("post");
        Assert.Equal(JsonValueKind.Object, decide.GetProperty("requestBody").ValueKind);
        foreach (var status in new[] { "200", "400", "404", "409" })
        {
            Assert.True(decide.GetProperty("responses").TryGetProperty(status, out _), $"POST approvals/{{approvalId}} does not document {status}");
        }

        // [beyond] interactive runs: what a person sends, and the diff.
        var send = paths.GetProperty("/api/v1/mogplex/runs/{runId}/messages").GetProperty("post");
        Assert.Equal(JsonValueKind.Object, send.GetProperty("requestBody").ValueKind);
        foreach (var (path, method, statuses) in new[]
        {
            ("/api/v1/mogplex/runs/{runId}/messages", "post", new[] { "202", "400", "404", "409", "413" }),
            ("/api/v1/mogplex/runs/{runId}/interrupt", "post", ["202", "404", "409"]),
            ("/api/v1/mogplex/runs/{runId}/finish", "post", ["202", "404", "409"]),
            ("/api/v1/mogplex/runs/{runId}/diff", "get", ["200", "404", "409"]),
        })
        {
            var responses = paths.GetProperty(path).GetProperty(method).GetProperty("responses");
            foreach (var status in statuses)
            {
                Assert.True(responses.TryGetProperty(status, out _), $"{method} {path} does not document {status}");
            }
        }

        // Every event type is a value of RunEvent.type (the named set RunEventType).
        var schemas = reply.Json.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty("RunEvent", out var runEvent), string.Join(", ", schemas.EnumerateObject().Select(p => p.Name)));
        Assert.Equal("#/components/schemas/RunEventType", runEvent.GetProperty("properties").GetProperty("type").GetProperty("$ref").GetString());
        var types = schemas.GetProperty("RunEventType").GetProperty("enum").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(typeof(Mogplex.Contracts.Events.RunEventTypes).GetFields().Select(f => (string?)f.GetRawConstantValue()).Order(), types.Order());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Responses_AreUtf8Json()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        var ok = await ApiClient.GetAsync(client, "/repos");
        var error = await ApiClient.GetAsync(client, "/runs/abc");

        foreach (var reply in new[] { ok, error })
        {
            Assert.Equal("application/json", reply.Response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("utf-8", reply.Response.Content.Headers.ContentType?.CharSet);
        }
    }

    private static HttpContent Content(byte[] body, bool chunked)
    {
        HttpContent content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Sends the body one byte per chunk (chunked framing many times the payload).</summary>
    private sealed class TinyChunksContent(byte[] data) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var i = 0; i < data.Length; i++)
            {
                await stream.WriteAsync(data.AsMemory(i, 1));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A stream whose length is unknown, so HttpClient sends the body chunked, without Content-Length.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
