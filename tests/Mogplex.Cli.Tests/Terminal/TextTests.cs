using System.Net;
using System.Text.Json.Nodes;
using Mogplex.Cli.Terminal;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Terminal;

/// <summary>
/// Server text in pretty output cannot reorder or hide what the user reads: bidirectional controls
/// and zero-width characters are printed escaped, like control characters; <c>--json</c> stays
/// the exact JSON.
/// </summary>
public sealed class TextTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("a\u202eb", "a\\u202eb")]
    [InlineData("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e")]
    [InlineData("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069")]
    [InlineData("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c")]
    [InlineData("x\u200by\u200cz\u200dw\u2060v\ufeff", "x\\u200by\\u200cz\\u200dw\\u2060v\\ufeff")]
    [InlineData("soft\u00adhyphen", "soft\\xadhyphen")]
    [InlineData("tag\U000E0041\U000E007F", "tag\\U000e0041\\U000e007f")]
    [InlineData("line\u2028para\u2029", "line\\u2028para\\u2029")]
    [InlineData("\u001b[2J\n\r\t\u0085", "\\x1b[2J\\n\\r\\t\\x85")]
    public void OneLine_EscapesBidiZeroWidthAndControlCharacters(string value, string printed) =>
        Assert.Equal(printed, Text.OneLine(value));

    [Theory]
    [InlineData("plain ascii")]
    [InlineData("héllo wörld ñ")]
    [InlineData("日本語のテキスト")]
    [InlineData("emoji 😀 and flags 🇫🇷")]
    [InlineData("עברית and العربية")]
    public void OneLine_LeavesVisibleTextAlone(string value) =>
        Assert.Equal(value, Text.OneLine(value));

    [Fact]
    public void OneLine_EscapesUnpairedSurrogates()
    {
        var value = "lone " + (char)0xd800 + " surrogate " + (char)0xdc00 + "!";

        Assert.Equal("lone \\ud800 surrogate \\udc00!", Text.OneLine(value));
    }

    [Fact]
    public async Task RunsEvents_BidiOverrideInAMessage_IsEscaped_AndJsonKeepsItExactly()
    {
        // "exe.txt" shown reversed by U+202E: a file name that reads as "txt.exe".
        const string Message = "wrote invoice\u202etxt.exe\u202c and \u2066hidden\u2069\u200b";
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1"), Api.Event("e1", "log", Message, toolName: "sh\u200d")));
        var pretty = await _cli.RunAsync("runs", "events", "run_1");
        _cli.Http.Get("/runs/run_1/events").Ok(Api.EventsPage(Api.Run(runId: "run_1"), Api.Event("e1", "log", Message)));
        var json = await _cli.RunAsync("runs", "events", "run_1", "--json");

        Assert.Equal(
            ["2025-01-01T10:00:01.000Z  log                tool=sh\\u200d  wrote invoice\\u202etxt.exe\\u202c and \\u2066hidden\\u2069\\u200b"],
            pretty.StdoutLines);
        Assert.Equal(Message, Api.Parse(Assert.Single(json.StdoutLines)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task ErrorMessage_WithBidiControls_IsEscapedOnStderr()
    {
        _cli.Http.Get("/runs/run_1").Error(HttpStatusCode.NotFound, "NOT_\u202eFOUND", "Run \u2067not\u2069 found\u200f");

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(["error: Run \\u2067not\\u2069 found\\u200f (NOT_\\u202eFOUND)"], result.StderrLines);
    }

    [Fact]
    public async Task RunsList_ZeroWidthInAField_IsEscapedInTheTable()
    {
        var run = Api.Run(runId: "run_1", status: "success", repoId: "repo\u200b_1");
        _cli.Http.Get("/runs").Ok(new JsonObject { ["runs"] = new JsonArray(run), ["nextCursor"] = null }.Json());

        var result = await _cli.RunAsync("runs", "list");

        Assert.Contains("repo\\u200b_1", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u200b', result.Stdout);
    }
}
