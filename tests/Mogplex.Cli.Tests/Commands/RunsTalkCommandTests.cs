using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary>
/// <c>mogplex run --interactive</c>, <c>runs send [--steer]</c>, <c>runs interrupt</c>,
/// <c>runs finish</c> and <c>runs diff [--stat]</c> (mogplexd, interactive.md): what is sent,
/// readable lines, <c>--json</c>, exit codes per cli.md, hostile server text neutralized, and a
/// clear error from a server without these routes (the hosted service).
/// </summary>
public sealed class RunsTalkCommandTests : IDisposable
{
    private const string Diff = """{"base":"aaa","head":null,"files":[{"path":"a.txt","status":"added","additions":2,"deletions":0},{"path":"img.png","status":"modified","additions":null,"deletions":null}],"patch":"diff --git a/a.txt b/a.txt\n+one\n+\ttwo\n","truncated":false}""";

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Run_Interactive_GoesInTheBody_AndSaysHowToTalkToIt()
    {
        _cli.Http.Post("/runs").Ok("""{"runId":"r1","status":"pending","repoId":"repo","harness":"codex","branch":{"base":"main","working":"main","createBranch":false},"replayed":false}""", HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("run", "--repo", "repo", "--interactive", "tidy up");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.True(JsonNode.Parse(_cli.SingleRequest.Body!)!["interactive"]!.GetValue<bool>());
        Assert.Contains(result.StdoutLines, l => l.Contains("mogplex runs send r1", StringComparison.Ordinal) && l.Contains("mogplex runs finish r1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, "queue", false, "message m1 sent")]
    [InlineData(true, "steer", false, "message m1 sent")]
    [InlineData(false, "queue", true, "message m1 queued (after the running turn)")]
    public async Task Send_SendsTheTextAndMode_SaysWhetherItWaits(bool steer, string mode, bool queued, string line)
    {
        _cli.Http.Post("/runs/r1/messages").Ok("{\"messageId\":\"m1\",\"queued\":" + (queued ? "true" : "false") + "}", HttpStatusCode.Accepted);

        var result = steer ? await _cli.RunAsync("runs", "send", "r1", "add", "a", "test", "--steer") : await _cli.RunAsync("runs", "send", "r1", "add", "a", "test");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([line], result.StdoutLines);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"text\":\"add a test\",\"mode\":\"" + mode + "\"}"), JsonNode.Parse(_cli.SingleRequest.Body!)));
        Assert.Null(_cli.SingleRequest.Header("Idempotency-Key"));
    }

    [Fact]
    public async Task Send_FromStdin_WithAKey_AndJson()
    {
        _cli.Http.Post("/runs/r1/messages").Ok("""{"messageId":"m1","queued":false}""", HttpStatusCode.Accepted);
        _cli.Stdin = "  line one\nline two\n";

        var result = await _cli.RunAsync("runs", "send", "r1", "-", "--idempotency-key", "k-1", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("m1", JsonNode.Parse(result.Stdout)!["messageId"]!.GetValue<string>());
        Assert.Equal("line one\nline two", JsonNode.Parse(_cli.SingleRequest.Body!)!["text"]!.GetValue<string>());
        Assert.Equal("k-1", _cli.SingleRequest.Header("Idempotency-Key"));
    }

    [Fact]
    public async Task Send_EmptyOrTooLong_IsAUsageError_NothingSent()
    {
        var empty = await _cli.RunAsync("runs", "send", "r1", "  ");
        var tooLong = await _cli.RunAsync("runs", "send", "r1", new string('x', 100_001));

        Assert.Equal(ExitCodes.Usage, empty.Exit);
        Assert.Equal(ExitCodes.Usage, tooLong.Exit);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("RUN_NOT_INTERACTIVE", "The run is not interactive (start it with interactive: true)")]
    [InlineData("RUN_TERMINAL", "The run already ended")]
    public async Task Send_Refused_IsAnErrorExitOne(string code, string message)
    {
        _cli.Http.Post("/runs/r1/messages").Error(HttpStatusCode.Conflict, code, message);

        var result = await _cli.RunAsync("runs", "send", "r1", "hi");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal([$"error: {message} ({code})"], result.StderrLines);
    }

    [Theory]
    [InlineData("interrupt", "interrupting the running turn of r1")]
    [InlineData("finish", "finishing run r1")]
    public async Task InterruptAndFinish_PostToTheirRoute(string verb, string line)
    {
        _cli.Http.Post($"/runs/r1/{verb}").Ok("{\"runId\":\"r1\",\"inputId\":\"i1\",\"kind\":\"" + verb + "\"}", HttpStatusCode.Accepted);

        var result = await _cli.RunAsync("runs", verb, "r1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([line], result.StdoutLines);
        Assert.Equal(HttpMethod.Post, _cli.SingleRequest.Method);
    }

    [Fact]
    public async Task Diff_PrintsThePatch_StatOneLinePerFile_JsonIsTheApiObject()
    {
        _cli.Http.Get("/runs/r1/diff").Ok(Diff);
        var patch = await _cli.RunAsync("runs", "diff", "r1");
        _cli.Http.Get("/runs/r1/diff").Ok(Diff);
        var stat = await _cli.RunAsync("runs", "diff", "r1", "--stat");
        _cli.Http.Get("/runs/r1/diff").Ok(Diff);
        var json = await _cli.RunAsync("runs", "diff", "r1", "--json");

        Assert.Equal(["diff --git a/a.txt b/a.txt", "+one", "+\ttwo"], patch.StdoutLines);
        Assert.Equal(["added     +2 -0          a.txt", "modified  binary         img.png", "2 file(s) changed"], stat.StdoutLines);
        Assert.Equal("aaa", JsonNode.Parse(json.Stdout)!["base"]!.GetValue<string>());
    }

    [Fact]
    public async Task Diff_HostilePatchAndPaths_CannotReachTheTerminal()
    {
        const string Hostile = """{"base":"a","files":[{"path":"x\u001b[2J\nfake","status":"added","additions":1,"deletions":0}],"patch":"+ok\u001b]0;owned\u0007\r\n+\u202eevil\n","truncated":true}""";
        _cli.Http.Get("/runs/r1/diff").Ok(Hostile);
        var patch = await _cli.RunAsync("runs", "diff", "r1");
        _cli.Http.Get("/runs/r1/diff").Ok(Hostile);
        var stat = await _cli.RunAsync("runs", "diff", "r1", "--stat");

        foreach (var text in new[] { patch.Stdout, stat.Stdout })
        {
            Assert.DoesNotContain('\u001b', text);
            Assert.DoesNotContain('\u0007', text);
            Assert.DoesNotContain('\u202e', text);
            Assert.DoesNotContain('\r', text);
        }

        Assert.Equal(2, stat.StdoutLines.Count);
        Assert.Contains("cut", patch.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("send")]
    [InlineData("interrupt")]
    [InlineData("finish")]
    [InlineData("diff")]
    public async Task ServerWithoutTheRoutes_ClearErrorExitOne(string verb)
    {
        if (verb == "diff")
        {
            _cli.Http.Get("/runs/r1/diff").Text(HttpStatusCode.NotFound, "text/html", "<html>404</html>");
        }
        else
        {
            _cli.Http.Post(verb == "send" ? "/runs/r1/messages" : $"/runs/r1/{verb}").Text(HttpStatusCode.NotFound, "text/html", "<html>404</html>");
        }

        var result = verb == "send" ? await _cli.RunAsync("runs", verb, "r1", "hi") : await _cli.RunAsync("runs", verb, "r1");

        Assert.Equal(ExitCodes.Failure, result.Exit);
        Assert.Equal([$"error: runs {verb} needs a mogplexd server (this server has no interactive runs; see MOGPLEX_URL)"], result.StderrLines);
        Assert.Empty(result.Stdout);
    }
}
