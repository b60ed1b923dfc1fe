using System.CommandLine;
using Mogplex.Cli.Commands.Runs;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Parsing;

/// <summary>The parse half alone (argv → values, no action run): every flag and alias, and the defaults.</summary>
public sealed class ParseResultTests : IDisposable
{
    private readonly FakeTerminal _terminal = new();
    private readonly CliContext _context;

    public ParseResultTests() => _context = new CliContext(_terminal, _ => null, new TestClock());

    public void Dispose()
    {
        _context.Dispose();
        _terminal.Dispose();
    }

    private ParseResult Parse(params string[] args)
    {
        var parse = CliApp.CreateRoot(_context).Parse(args);
        Assert.Empty(parse.Errors);
        return parse;
    }

    [Fact]
    public void Run_EveryFlag()
    {
        var parse = Parse("run", "--repo", "r", "--harness", "claude-code", "--base-branch", "b", "--branch", "w", "--create-branch", "--root", "d", "--idempotency-key", "k", "--json", "a", "b c");

        Assert.Equal("run", parse.CommandResult.Command.Name);
        Assert.Equal("r", parse.GetValue<string?>("--repo"));
        Assert.Equal("claude-code", parse.GetValue<string?>("--harness"));
        Assert.Equal("b", parse.GetValue<string?>("--base-branch"));
        Assert.Equal("w", parse.GetValue<string?>("--branch"));
        Assert.True(parse.GetValue<bool>("--create-branch"));
        Assert.Equal("d", parse.GetValue<string?>("--root"));
        Assert.Equal("k", parse.GetValue<string?>("--idempotency-key"));
        Assert.True(parse.GetValue<bool>("--json"));
        Assert.Equal(["a", "b c"], parse.GetValue<string[]>("prompt")!);
    }

    [Fact]
    public void Run_Defaults()
    {
        var parse = Parse("run", "--repo", "r", "go");

        Assert.Null(parse.GetValue<string?>("--harness"));
        Assert.Null(parse.GetValue<string?>("--base-branch"));
        Assert.Null(parse.GetValue<string?>("--branch"));
        Assert.False(parse.GetValue<bool>("--create-branch"));
        Assert.Null(parse.GetValue<string?>("--root"));
        Assert.Null(parse.GetValue<string?>("--idempotency-key"));
        Assert.False(parse.GetValue<bool>("--json"));
    }

    [Fact]
    public void RunsEvents_EveryFlagAndTheDefaults()
    {
        var all = Parse("runs", "events", "run_1", "-f", "--timeout", "60", "--limit", "9", "--json");
        Assert.Equal("run_1", all.GetValue<string>("runId"));
        Assert.True(all.GetValue<bool>("--follow"));
        Assert.Equal(60, all.GetValue<int?>("--timeout"));
        Assert.Equal(9, all.GetValue<int?>("--limit"));
        Assert.True(all.GetValue<bool>("--json"));

        var none = Parse("runs", "events", "run_1");
        Assert.False(none.GetValue<bool>("--follow"));
        // Unset means the documented default, applied when the options record is built.
        Assert.Null(none.GetValue<int?>("--timeout"));
        Assert.Equal(1800, RunsEventsCommand.DefaultTimeoutSeconds);
        Assert.Null(none.GetValue<int?>("--limit"));
    }

    [Theory]
    [InlineData("runs", "list")]
    [InlineData("sandboxes", "list")]
    public void ListWithRepoStatusLimitJson(string group, string verb)
    {
        var parse = Parse(group, verb, "--repo", "r", "--status", "s", "--limit", "3", "--json");

        Assert.Equal("r", parse.GetValue<string?>("--repo"));
        Assert.Equal("s", parse.GetValue<string?>("--status"));
        Assert.Equal(3, parse.GetValue<int?>("--limit"));
        Assert.True(parse.GetValue<bool>("--json"));
    }

    [Fact]
    public void ReposList_QueryAliasLimitJson()
    {
        var parse = Parse("repos", "list", "-q", "api", "--limit", "4", "--json");

        Assert.Equal("api", parse.GetValue<string?>("--query"));
        Assert.Equal(4, parse.GetValue<int?>("--limit"));
        Assert.True(parse.GetValue<bool>("--json"));
    }

    [Theory]
    [InlineData("get")]
    [InlineData("cancel")]
    public void RunsGetAndCancel_RunIdAndJson(string verb)
    {
        var parse = Parse("runs", verb, "run_1", "--json");

        Assert.Equal(verb, parse.CommandResult.Command.Name);
        Assert.Equal("run_1", parse.GetValue<string>("runId"));
        Assert.True(parse.GetValue<bool>("--json"));
    }

    [Fact]
    public void SandboxesStop_Id()
    {
        Assert.Equal("sb_1", Parse("sandboxes", "stop", "sb_1").GetValue<string>("id"));
    }
}
