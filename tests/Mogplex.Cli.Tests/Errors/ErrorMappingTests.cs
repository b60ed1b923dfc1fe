using System.Net;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Errors;

/// <summary>Server answers → <c>error: &lt;message&gt; (&lt;CODE&gt;)</c> on stderr and the documented exit code; never a stack trace.</summary>
public sealed class ErrorMappingTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "UNAUTHORIZED", "Unauthorized", ExitCodes.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden, "FORBIDDEN", "Missing required scope: read", ExitCodes.Forbidden)]
    [InlineData(HttpStatusCode.NotFound, "NOT_FOUND", "Run not found", ExitCodes.Failure)]
    [InlineData(HttpStatusCode.Conflict, "CONFLICT", "Run is not cancellable", ExitCodes.Failure)]
    [InlineData(HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid query", ExitCodes.Failure)]
    [InlineData(HttpStatusCode.InternalServerError, "INTERNAL_ERROR", "Internal error (request 7f3a)", ExitCodes.Failure)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", "Database unavailable", ExitCodes.Unavailable)]
    public async Task EnvelopeError_PrintsMessageAndCode_AndMapsTheExitCode(HttpStatusCode status, string code, string message, int exit)
    {
        _cli.Http.Get("/runs/run_1").Error(status, code, message);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(exit, result.Exit);
        Assert.Equal([$"error: {message} ({code})"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task EnvelopeError_WithJson_KeepsStdoutEmpty()
    {
        _cli.Http.Get("/runs/run_1").Error(HttpStatusCode.NotFound, "NOT_FOUND", "Run not found");

        var result = await _cli.RunAsync("runs", "get", "run_1", "--json");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Empty(result.Stdout);
        Assert.Equal(["error: Run not found (NOT_FOUND)"], result.StderrLines);
    }

    [Fact]
    public async Task IdempotencyConflict_Exits1()
    {
        _cli.Http.Post("/runs").Error(HttpStatusCode.Conflict, "IDEMPOTENCY_CONFLICT", "Idempotency key already used for a different request");

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "--idempotency-key", "k1", "go");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: Idempotency key already used for a different request (IDEMPOTENCY_CONFLICT)"], result.StderrLines);
    }

    [Fact]
    public async Task RateLimited_Exits75_AndSaysWhenToRetry()
    {
        _cli.Http.Post("/runs").Error(HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 42s.", retryAfterSeconds: 42);

        var result = await _cli.RunAsync("run", "--repo", "repo_1", "go");

        Assert.Equal(ExitCodes.TemporaryFailure, result.Exit);
        Assert.Equal(["error: Rate limit exceeded. Retry after 42s. (RATE_LIMITED)", "retry after 42s"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task RateLimited_WithoutRetryAfter_Exits75WithoutTheRetryLine()
    {
        _cli.Http.Get("/repos").Error(HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded.");

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.TemporaryFailure, result.Exit);
        Assert.Equal(["error: Rate limit exceeded. (RATE_LIMITED)"], result.StderrLines);
    }

    [Fact]
    public async Task ServiceUnavailable_WithRetryAfter_Exits69()
    {
        _cli.Http.Get("/repos").Error(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", "Rate limiter unavailable", retryAfterSeconds: 5);

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal("error: Rate limiter unavailable (SERVICE_UNAVAILABLE)", result.StderrLines[0]);
    }

    [Fact]
    public async Task HtmlBadGateway_IsAClearOneLineError_Exit69()
    {
        _cli.Http.Get("/runs/run_1").Text(HttpStatusCode.BadGateway, "text/html", "<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>");

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal(["error: unexpected answer from the server: HTTP 502 Bad Gateway (HTTP_502)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task ProxyServiceUnavailableWithoutEnvelope_Exits69()
    {
        _cli.Http.Get("/repos").Text(HttpStatusCode.ServiceUnavailable, "text/html", "<h1>down for maintenance</h1>");

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal(["error: unexpected answer from the server: HTTP 503 Service Unavailable (HTTP_503)"], result.StderrLines);
    }

    [Theory]
    [InlineData("text/html", "<html>login page</html>")]
    [InlineData("application/json", """{"runs":[]}""")]
    [InlineData("application/json", """{"ok":true}""")]
    public async Task SuccessWithoutEnvelope_IsAClearError(string mediaType, string body)
    {
        _cli.Http.Get("/runs/run_1").Text(HttpStatusCode.OK, mediaType, body);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: unexpected answer from the server: an answer that is not a Mogplex API envelope (HTTP_200)"], result.StderrLines);
    }

    [Theory]
    [InlineData(new[] { "runs", "get", "run_1" }, "/runs/run_1", """{"notRun":1}""", "run")]
    [InlineData(new[] { "repos", "list" }, "/repos", "null", "repos")]
    [InlineData(new[] { "sandboxes", "list" }, "/sandboxes", "[]", "sandboxes")]
    public async Task EnvelopeWithoutTheExpectedData_IsAClearError(string[] args, string path, string data, string field)
    {
        _cli.Http.Get(path).Ok(data);

        var result = await _cli.RunAsync(args);

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal([$"error: unexpected answer from the server: no \"{field}\" in its data (HTTP_200)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Unreachable_Exits69NamingTheServer()
    {
        _cli.Http.Get("/repos").Unreachable();

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Unavailable, result.Exit);
        Assert.Equal(["error: cannot reach the server at https://www.mogplex.com: Connection refused"], result.StderrLines);
    }

    [Fact]
    public async Task HostileErrorMessage_IsEscapedOnOneLine()
    {
        _cli.Http.Get("/runs/run_1").Error(HttpStatusCode.NotFound, "NOT\nFOUND", "Run not found\u001b[2J\nerror: you have been pwned");

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(["error: Run not found\\x1b[2J\\nerror: you have been pwned (NOT\\nFOUND)"], result.StderrLines);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.MethodNotAllowed)]
    public async Task RunsList_ServerWithoutTheRoute_SaysItDoesNotListRuns(HttpStatusCode status)
    {
        _cli.Http.Get("/runs").Text(status, "text/plain", "Not Found");

        var result = await _cli.RunAsync("runs", "list");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: this server does not list runs"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task RunsList_EnvelopeError_IsTheServersError()
    {
        _cli.Http.Get("/runs?status=bogus").Error(HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid status");

        var result = await _cli.RunAsync("runs", "list", "--status", "bogus");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: Invalid status (BAD_REQUEST)"], result.StderrLines);
    }
}
