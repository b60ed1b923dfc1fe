using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Errors;

/// <summary>
/// A broken or hostile server (or a proxy in front of it): answers far larger than any of this
/// API's are cut off at 32 MiB (<c>MogplexClient.MaxAnswerBytes</c>) without reading on, and a proxy's
/// 502/504 page exits 69 like a 503, so the README's retry loop retries it.
/// </summary>
public sealed class HostileAnswerTests : IDisposable
{
    /// <summary>The cap on an answer (<c>MogplexClient.MaxAnswerBytes</c>).</summary>
    private const long Cap = 32L * 1024 * 1024;

    /// <summary>What a reader may take beyond the cap before it notices (its last read).</summary>
    private const long ReadSlack = 1024 * 1024;

    /// <summary>More than the cap: the old client read all of it.</summary>
    private const long HugeBody = Cap + (8L * 1024 * 1024);

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("application/json", "{\"ok\":true,\"data\":{\"run\":\"", "x")]
    [InlineData("text/html", "<html>", "<p>all work and no play</p>\n")]
    public async Task EndlessAnswer_StopsReadingAtTheCap_Exits1WithAClearError(string mediaType, string prefix, string filler)
    {
        var body = new RepeatingStream(prefix, filler, HugeBody);
        _cli.Http.Get("/runs/run_1").Body(HttpStatusCode.OK, mediaType, body);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: unexpected answer from the server: an answer larger than 32 MiB (HTTP_200)"], result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.InRange(body.BytesRead, Cap, Cap + ReadSlack);
    }

    [Fact]
    public async Task DeclaredLengthOverTheCap_IsRefusedWithoutReadingTheBody()
    {
        var body = new RepeatingStream("{\"ok\":true,\"data\":", " ", 3L * 1024 * 1024 * 1024);
        _cli.Http.Get("/repos").Body(HttpStatusCode.OK, "application/json", body, contentLength: 3L * 1024 * 1024 * 1024);

        var result = await _cli.RunAsync("repos", "list", "--json");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: unexpected answer from the server: an answer larger than 32 MiB (HTTP_200)"], result.StderrLines);
        Assert.Equal(0, body.BytesRead);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway, "502 Bad Gateway", ExitCodes.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "503 Service Unavailable", ExitCodes.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, "500 Internal Server Error", ExitCodes.Failure)]
    public async Task EndlessErrorPage_StopsReadingAtTheCap_AndTheStatusDecides(HttpStatusCode status, string statusLine, int exit)
    {
        var body = new RepeatingStream("<html><body>", "<h1>oops</h1>\n", HugeBody);
        _cli.Http.Post("/runs").Body(status, "text/html", body);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "go");

        Assert.Equal(exit, result.Exit);
        Assert.Equal([$"error: unexpected answer from the server: HTTP {statusLine} (HTTP_{(int)status})"], result.StderrLines);
        Assert.InRange(body.BytesRead, Cap, Cap + ReadSlack);
    }

    [Fact]
    public async Task LargeAnswerUnderTheCap_WithoutContentLength_IsReadWhole()
    {
        // An events page of 200 events near the sanitizer's limits (~4.4 MB), sent chunked in small reads.
        var events = Enumerable.Range(1, 200)
            .Select(i => Api.Event($"e{i}", "tool_result", new string('m', 2_000), toolName: "shell"))
            .ToArray();
        foreach (var e in events)
        {
            e["payload"] = new JsonObject { ["output"] = new string('p', 20_000) };
        }

        var page = $$"""{"ok":true,"data":{{Api.EventsPage(Api.Run(runId: "run_1", status: "success"), events)}}}""";
        _cli.Http.Get("/runs/run_1/events?limit=200").Body(HttpStatusCode.OK, "application/json", new ScriptedStream(page, StreamEnding.Close) { MaxChunk = 8 * 1024 });

        var result = await _cli.RunAsync("runs", "events", "run_1", "--limit", "200", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(events.Select(e => e.Json()), result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")]
    [InlineData(HttpStatusCode.GatewayTimeout, "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>")]
    public async Task ProxyGatewayErrorPage_Exits69LikeA503(HttpStatusCode status, string html)
    {
        _cli.Http.Post("/runs").Text(status, "text/html", html);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--idempotency-key", "k1", "--json", "go");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal([$"error: unexpected answer from the server: HTTP {(int)status} {(status == HttpStatusCode.BadGateway ? "Bad Gateway" : "Gateway Timeout")} (HTTP_{(int)status})"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.BadRequest)]
    public async Task OtherErrorPagesWithoutEnvelope_Exit1(HttpStatusCode status)
    {
        _cli.Http.Get("/repos").Text(status, "text/html", "<html><body>something broke</body></html>");

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.StartsWith($"error: unexpected answer from the server: HTTP {(int)status} ", result.StderrLines.Single(), StringComparison.Ordinal);
    }
}
