using System.Text.Json.Nodes;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Commands;

/// <summary>The list commands: aligned tables with headers, or NDJSON with nothing else on stdout.</summary>
public sealed class ListCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static readonly JsonObject s_repo1 = new()
    {
        ["id"] = "repo_1",
        ["full_name"] = "acme/api",
        ["installation_id"] = 1,
        ["default_branch"] = "main",
        ["root_directory"] = null,
    };

    private static readonly JsonObject s_repo2 = new()
    {
        ["id"] = "repo_22",
        ["full_name"] = "acme/monorepo",
        ["installation_id"] = 2,
        ["default_branch"] = "trunk",
        ["root_directory"] = "packages/web",
    };

    private static JsonObject Sandbox(string id, string status, string working, string lastActive) => new()
    {
        ["id"] = id,
        ["sandbox_id"] = $"x-{id}",
        ["repo_id"] = "repo_1",
        ["status"] = status,
        ["base_branch"] = "main",
        ["working_branch"] = working,
        ["root_directory"] = null,
        ["preview_url"] = null,
        ["created_at"] = "2025-01-01T09:00:00.000Z",
        ["last_active_at"] = lastActive,
        ["error"] = null,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReposList_Pretty_IsAnAlignedTable(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        _cli.Http.Get("/repos").Ok(new JsonObject { ["repos"] = new JsonArray(s_repo1.DeepClone(), s_repo2.DeepClone()) }.Json());

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "ID       FULL NAME      DEFAULT BRANCH  ROOT",
                "repo_1   acme/api       main            .",
                "repo_22  acme/monorepo  trunk           packages/web",
            ],
            result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task ReposList_Empty_PrintsTheHeaderOnly()
    {
        _cli.Http.Get("/repos").Ok("""{"repos":[]}""");

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(["ID  FULL NAME  DEFAULT BRANCH  ROOT"], result.StdoutLines);
    }

    [Fact]
    public async Task ReposList_Json_IsOneRepoPerLineWithTheApiFields()
    {
        _cli.Http.Get("/repos?q=acme").Ok(new JsonObject { ["repos"] = new JsonArray(s_repo1.DeepClone(), s_repo2.DeepClone()) }.Json());

        var result = await _cli.RunAsync("repos", "list", "--query", "acme", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([s_repo1.Json(), s_repo2.Json()], result.StdoutLines);
        Assert.Equal("acme/api", Api.Parse(result.StdoutLines[0]).GetProperty("full_name").GetString());
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task ReposList_JsonEmpty_PrintsNothing()
    {
        _cli.Http.Get("/repos").Ok("""{"repos":[]}""");

        var result = await _cli.RunAsync("repos", "list", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunsList_Pretty_IsAnAlignedTable(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        var runs = new JsonArray(
            Api.Run(runId: "run_10", status: "streaming", harness: "codex", repoId: "repo_1", working: "fix/a", createBranch: true),
            Api.Run(runId: "run_9", status: "success", harness: "claude-code", repoId: "repo_22", working: "main"));
        _cli.Http.Get("/runs").Ok(new JsonObject { ["runs"] = runs, ["nextCursor"] = null }.Json());

        var result = await _cli.RunAsync("runs", "list");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "RUN     STATUS     HARNESS      REPO     BRANCH  CREATED",
                "run_10  streaming  codex        repo_1   fix/a   2025-01-01T10:00:00.000Z",
                "run_9   success    claude-code  repo_22  main    2025-01-01T10:00:00.000Z",
            ],
            result.StdoutLines);
    }

    [Fact]
    public async Task RunsList_Json_IsOneRunPerLine()
    {
        var run1 = Api.Run(runId: "run_10");
        var run2 = Api.Run(runId: "run_9");
        _cli.Http.Get("/runs?status=pending").Ok(new JsonObject { ["runs"] = new JsonArray(run1.DeepClone(), run2.DeepClone()), ["nextCursor"] = "c2" }.Json());

        var result = await _cli.RunAsync("runs", "list", "--status", "pending", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([run1.Json(), run2.Json()], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SandboxesList_Pretty_IsAnAlignedTable(bool tty)
    {
        _cli.StdoutIsTerminal = tty;
        var sandboxes = new JsonArray(
            Sandbox("sb_1", "running", "fix/readme", "2025-01-01T10:30:00.000Z"),
            Sandbox("sb_123", "stopped", "main", "2025-01-01T08:00:00.000Z"));
        _cli.Http.Get("/sandboxes").Ok(new JsonObject { ["sandboxes"] = sandboxes }.Json());

        var result = await _cli.RunAsync("sandboxes", "list");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            [
                "ID      STATUS   REPO    WORKING BRANCH  LAST ACTIVE",
                "sb_1    running  repo_1  fix/readme      2025-01-01T10:30:00.000Z",
                "sb_123  stopped  repo_1  main            2025-01-01T08:00:00.000Z",
            ],
            result.StdoutLines);
    }

    [Fact]
    public async Task SandboxesList_Json_IsOneRecordPerLine()
    {
        var sandbox = Sandbox("sb_1", "running", "fix/readme", "2025-01-01T10:30:00.000Z");
        _cli.Http.Get("/sandboxes?status=running").Ok(new JsonObject { ["sandboxes"] = new JsonArray(sandbox.DeepClone()) }.Json());

        var result = await _cli.RunAsync("sandboxes", "list", "--status", "running", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal([sandbox.Json()], result.StdoutLines);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task Table_HostileCell_IsEscapedAndStaysOneRow()
    {
        var repo = s_repo1.DeepClone().AsObject();
        repo["full_name"] = "evil\n\u001b[2Jname";
        _cli.Http.Get("/repos").Ok(new JsonObject { ["repos"] = new JsonArray(repo) }.Json());

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(
            [
                "ID      FULL NAME          DEFAULT BRANCH  ROOT",
                "repo_1  evil\\n\\x1b[2Jname  main            .",
            ],
            result.StdoutLines);
    }
}
