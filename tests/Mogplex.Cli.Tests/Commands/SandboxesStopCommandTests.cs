using System.Net;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary><c>mogplex sandboxes stop</c>: mogplexd stops it; a server without the route gets the placeholder.</summary>
public sealed class SandboxesStopCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task SandboxesStop_Stopped_SaysSo()
    {
        _cli.Http.Post("/sandboxes/sb_1/stop").Ok("""{"sandbox":{"id":"sb_1","status":"stopped"},"alreadyStopped":false}""");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["stopped sandbox sb_1"], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task SandboxesStop_AlreadyStopped_SaysSo()
    {
        _cli.Http.Post("/sandboxes/sb_1/stop").Ok("""{"sandbox":{"id":"sb_1","status":"stopped"},"alreadyStopped":true}""");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(["sandbox sb_1 was already stopped"], result.StdoutLines);
    }

    [Theory]
    [InlineData("text/plain", "Not Found")]
    [InlineData("text/html", "<html><body><h1>404</h1></body></html>")]
    [InlineData("application/json", """{"message":"Not Found"}""")]
    public async Task SandboxesStop_RouteMissing_PrintsThePlaceholderAndExitsZero(string mediaType, string body)
    {
        _cli.Http.Post("/sandboxes/sb_1/stop").Text(HttpStatusCode.NotFound, mediaType, body);

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            ["this server cannot stop sandboxes from the command line yet; stop sandbox sb_1 in the web UI at https://www.mogplex.com"],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task SandboxesStop_EnvelopeNotFound_IsAnErrorExitOne()
    {
        _cli.Http.Post("/sandboxes/sb_404/stop").Error(HttpStatusCode.NotFound, "NOT_FOUND", "Sandbox not found");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_404");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: Sandbox not found (NOT_FOUND)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task SandboxesStop_InUse_IsConflictExitOne()
    {
        _cli.Http.Post("/sandboxes/sb_1/stop").Error(HttpStatusCode.Conflict, "CONFLICT", "Sandbox is in use by an active run");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal(["error: Sandbox is in use by an active run (CONFLICT)"], result.StderrLines);
    }
}
