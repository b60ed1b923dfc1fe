using System.Text;
using Mogplex.Cli.Commands;
using Mogplex.Client;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Tests.Commands;

/// <summary>
/// The <c>POST /runs</c> body is the Contracts <see cref="StartRunRequest"/>, source-generated:
/// only the fields the user set are sent (an omitted field is omitted, never <c>null</c>).
/// </summary>
public sealed class StartRunBodyTests
{
    private static string Body(RunOptions options, string prompt = "fix it") =>
        Encoding.UTF8.GetString(RunsClient.StartBody(RunCommand.Request(options, prompt)).Span);

    private static RunOptions Options(string repo = "repo_1") => new(repo, null, null, null, false, null, null, false, ["fix it"]);

    [Fact]
    public void StartBody_OnlyRepoAndPrompt_OmitsEveryOtherField() =>
        Assert.Equal("""{"repoId":"repo_1","prompt":"fix it"}""", Body(Options()));

    [Fact]
    public void StartBody_EveryFlag_WritesEachFieldOnceInOrder()
    {
        var options = new RunOptions("repo_1", "claude-code", "main", "fix/a", true, "apps/api", "k", false, ["p"])
        {
            PermissionMode = "approval",
            Model = "sonnet",
            Interactive = true,
            Allow = ["bash:git status*"],
            Ask = ["write:src/**"],
            Deny = ["bash:git push*", "net:*"],
        };

        Assert.Equal(
            """{"repoId":"repo_1","prompt":"fix it","harness":"claude-code","baseBranch":"main","workingBranch":"fix/a","createBranch":true,"rootDirectory":"apps/api","permissionMode":"approval","model":"sonnet","interactive":true,"permissions":{"allow":["bash:git status*"],"ask":["write:src/**"],"deny":["bash:git push*","net:*"]}}""",
            Body(options));
    }

    [Fact]
    public void StartBody_EmptyRootAndSomeRules_SendsTheEmptyRootAndOnlyTheGivenLists()
    {
        var options = Options() with { Root = "" };

        Assert.Equal(
            """{"repoId":"repo_1","prompt":"fix it","rootDirectory":"","permissions":{"deny":["bash:rm *"]}}""",
            Body(options with { Deny = ["bash:rm *"] }));
    }

    [Fact]
    public void StartBody_FalseFlags_AreOmittedNotFalse() =>
        Assert.DoesNotContain("false", Body(Options() with { CreateBranch = false, Interactive = false }), StringComparison.Ordinal);

    // The default encoder, as Utf8JsonWriter used it before: quotes, HTML characters and non-ASCII escaped.
    [Fact]
    public void StartBody_TextIsEscapedAsJson() =>
        Assert.Equal("""{"repoId":"r\u00221","prompt":"line\nnext \u00E9 \u003Cb\u003E"}""", Body(Options("r\"1"), "line\nnext é <b>"));

    [Fact]
    public void StartRunRequest_NullFields_AreNotWritten() =>
        Assert.Equal(
            """{"repoId":"r","prompt":"p","permissions":{}}""",
            Encoding.UTF8.GetString(RunsClient.StartBody(new StartRunRequest { RepoId = "r", Prompt = "p", Permissions = new PermissionRules() }).Span));
}
