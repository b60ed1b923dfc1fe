using System.Net;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Hostile;

/// <summary>
/// Requests no HTTP client writes, sent as raw bytes to the real Kestrel listener: what reaches the
/// API is answered with the envelope and <c>X-Request-Id</c>; what Kestrel refuses before any of
/// our code runs is answered as docs/decisions.md ("Requests Kestrel refuses") says.
/// </summary>
public sealed class RawRequestTests
{

    [Fact]
    public async Task HeaderValue_NotUtf8OrWithAControlCharacter_EnvelopeWithRequestId()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        (string Line, string Name)[] cases =
        [
            ("X-Note: \u00ff\u00fe", "X-Note"),              // bytes FF FE: not UTF-8 (Kestrel alone: an empty 400)
            ("X-Note: caf\u00e9", "X-Note"),                 // Latin-1 é (byte E9): not UTF-8
            ("X-Note: \u00c3\u0028", "X-Note"),              // a truncated UTF-8 sequence
            ("X-Note: \u00c0\u00ae", "X-Note"),              // an overlong UTF-8 dot
            ("X-Note: a\u0001b", "X-Note"),                  // control characters Kestrel lets through
            ("X-Note: a\u001bb", "X-Note"),
            ("X-Note: a\u007fb", "X-Note"),
            ("Idempotency-Key: k\u00ff", "Idempotency-Key"),
            ("X-Request-Id: \u00ff", "X-Request-Id"),        // refused, and a fresh id answers
        ];

        foreach (var (line, name) in cases)
        {
            var answer = await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/repos", token, line));
            RawHttp.AssertEnvelope(answer, HttpStatusCode.BadRequest, "BAD_REQUEST", Invalid(name));
        }

        // Refused before authentication: a bad token in such a header is the same 400, not a 401.
        var auth = await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/repos", null, "Authorization: Bearer \u00ff"));
        RawHttp.AssertEnvelope(auth, HttpStatusCode.BadRequest, "BAD_REQUEST", Invalid("Authorization"));

        // The client's sane request id is still echoed on the refusal.
        var echoed = await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/repos", token, "X-Request-Id: trace-7", "X-Note: \u00ff"));
        RawHttp.AssertEnvelope(echoed, HttpStatusCode.BadRequest, "BAD_REQUEST", Invalid("X-Note"), "trace-7");

        // Not only the API: /healthz too.
        var health = await RawHttp.SendAsync(server, RawHttp.Get("/healthz", null, "X-Note: \u00ff"));
        RawHttp.AssertEnvelope(health, HttpStatusCode.BadRequest, "BAD_REQUEST", Invalid("X-Note"));
    }

    [Fact]
    public async Task HeaderValue_Utf8AndTab_AcceptedAndDecodedAsUtf8()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();

        // "ключ-é" as UTF-8 bytes: accepted (written here one char per byte).
        var utf8Key = System.Text.Encoding.Latin1.GetString(System.Text.Encoding.UTF8.GetBytes("ключ-é"));
        var body = System.Text.Encoding.UTF8.GetBytes($$"""{"repoId":"{{repo}}","prompt":"x"}""");
        var request = System.Text.Encoding.Latin1.GetBytes(
            $"POST /api/v1/mogplex/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n" +
            $"Idempotency-Key: {utf8Key}\r\nX-Note: a\tb\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        var answer = await RawHttp.SendAsync(server, [.. request, .. body]);
        Assert.True(answer.Status == 202, answer.Body);

        // The key was read as UTF-8 text: the same key through an ordinary client replays that run.
        using var client = RawApi.CreateClient(server, token);
        var replay = await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(body), [new("Idempotency-Key", "ключ-é")]);
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        Assert.True(replay.Json().GetProperty("data").GetProperty("replayed").GetBoolean());
        Assert.Equal(answer.Json().GetProperty("data").GetProperty("runId").GetString(), replay.Json().GetProperty("data").GetProperty("runId").GetString());
    }

    [Fact]
    public async Task Path_WhatReachesRouting_EnvelopeWithRequestId()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();

        // An encoded byte that is not UTF-8 reaches routing: a malformed id is the documented 404.
        RawHttp.AssertEnvelope(await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/runs/a%FF", token)), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");

        // Kestrel lets a raw control character other than NUL through in the path: the same 404.
        RawHttp.AssertEnvelope(await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/runs/a\u0001b", token)), HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");

        // An encoded NUL in the query reaches the API (Kestrel decodes only the path): 400 with the envelope.
        RawHttp.AssertEnvelope(await RawHttp.SendAsync(server, RawHttp.Get("/api/v1/mogplex/runs?status=a%00b", token)), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid status");
    }

    private static string Invalid(string header) => $"Invalid header {header}: a control character or bytes that are not UTF-8";

    /// <summary>
    /// Kestrel refuses these while parsing, before any middleware exists for the request; it has no
    /// hook to change the answer. Documented in docs/decisions.md: the status, an empty body
    /// (<c>Content-Length: 0</c>), <c>Connection: close</c>, and no <c>X-Request-Id</c>.
    /// </summary>
    [Theory]
    [InlineData("raw NUL in the path", 400)]
    [InlineData("raw NUL in the query", 400)]
    [InlineData("encoded NUL in the path", 400)]
    [InlineData("raw non-ASCII byte in the path", 400)]
    [InlineData("NUL in a header value", 400)]
    [InlineData("request line over 8 KiB", 414)]
    [InlineData("headers over 32 KiB", 431)]
    public async Task RefusedByKestrel_EmptyAnswerAsDocumented(string what, int status)
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var request = what switch
        {
            "raw NUL in the path" => RawHttp.Get("/api/v1/mogplex/runs/a\0b", token),
            "raw NUL in the query" => RawHttp.Get("/api/v1/mogplex/runs?status=a\0b", token),
            "encoded NUL in the path" => RawHttp.Get("/api/v1/mogplex/runs/a%00b", token),
            "raw non-ASCII byte in the path" => RawHttp.Get("/api/v1/mogplex/runs/a\u00ffb", token),
            "NUL in a header value" => RawHttp.Get("/api/v1/mogplex/repos", token, "X-Note: a\0b"),
            "request line over 8 KiB" => RawHttp.Get("/api/v1/mogplex/runs/" + new string('a', 9_000), token),
            "headers over 32 KiB" => RawHttp.Get("/api/v1/mogplex/repos", token, "X-Big: " + new string('a', 33_000)),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        var answer = await RawHttp.SendAsync(server, request);

        Assert.True(answer.Status == status, $"{what}: {answer.StatusLine}");
        Assert.Equal("0", answer.Header("Content-Length"));
        Assert.Equal("close", answer.Header("Connection"));
        Assert.Equal("", answer.Body);
        Assert.Null(answer.Header("X-Request-Id"));
    }
}
