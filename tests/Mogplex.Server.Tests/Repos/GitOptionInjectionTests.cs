using Mogplex.Server.Commands;
using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;
using Mogplex.Server.Tests.Engine;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Repos;

/// <summary>
/// Values from operators and API users that reach a git command line: a repo's source, its
/// default branch, branch names. None may be read by git as an option (<c>--upload-pack=cmd</c>
/// runs cmd), and no server git call may use a transport that runs a command (<c>ext::</c>).
/// Every planted command would create a marker file; it must not exist afterwards.
/// </summary>
public sealed class GitOptionInjectionTests
{
    private static string Marker() => Path.Combine(Path.GetTempPath(), "mogplex-injected-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<string> OptionSources() => new()
    {
        "--upload-pack=touch {0};",
        "  --upload-pack=touch {0};  ",
        "-utouch {0};",
    };

    [Theory]
    [MemberData(nameof(OptionSources))]
    public async Task Link_SourceGitWouldReadAsAnOption_RefusedAndNothingRuns(string template)
    {
        var dataDir = Directory.CreateTempSubdirectory("mogplex-link-").FullName;
        var marker = Marker();
        using var ctx = await OperatorContext.OpenAsync(dataDir, null, null, ServerFixture.Ct);
        var user = await ctx.Store.Users.EnsureUserAsync("admin", ctx.Time.GetUtcNow(), ServerFixture.Ct);

        var error = await Assert.ThrowsAsync<OperatorException>(() =>
            RepoLinker.LinkAsync(ctx, new RepoLinker.Request(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, marker), null, null, null, null, user.Id), ServerFixture.Ct));

        Assert.Contains("starts with '-', which git would read as an option", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "the source's option ran a command");
        Assert.Empty(await ctx.Store.Repos.ListReposAsync(new RepoQuery(null, null, 10), ServerFixture.Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dataDir, "repos")));
    }

    [Fact]
    public async Task Link_SourceWhoseDefaultBranchLooksLikeAnOption_RefusedUnlessOneIsGiven()
    {
        var dataDir = Directory.CreateTempSubdirectory("mogplex-link-").FullName;
        var (source, _) = await SourceWithBranchAsync("-evil");
        GitRepos.Git(source, "symbolic-ref", "HEAD", "refs/heads/-evil");
        using var ctx = await OperatorContext.OpenAsync(dataDir, null, null, ServerFixture.Ct);
        var user = await ctx.Store.Users.EnsureUserAsync("admin", ctx.Time.GetUtcNow(), ServerFixture.Ct);

        var error = await Assert.ThrowsAsync<OperatorException>(() =>
            RepoLinker.LinkAsync(ctx, new RepoLinker.Request(source, null, null, null, null, user.Id), ServerFixture.Ct));

        Assert.Equal($"the default branch of {source} ('-evil') is not a valid branch name; give one with --default-branch", error.Message);
        GitRepos.Git(source, "update-ref", "refs/heads/main", "refs/heads/-evil");
        var linked = await RepoLinker.LinkAsync(ctx, new RepoLinker.Request(source, null, "main", null, null, user.Id), ServerFixture.Ct);
        Assert.Equal("main", linked.DefaultBranch);
    }

    [Fact]
    public async Task ServerGit_ExtTransportAllowedByTheRepositorysConfig_StillRefused()
    {
        // A configuration that allows ext:: (here a repository's own, which a git call in it reads)
        // does not matter: the server's git calls allow only file, git, http, https and ssh.
        var repo = Directory.CreateTempSubdirectory("mogplex-ext-").FullName;
        GitRepos.Git(repo, "init", "--quiet");
        GitRepos.Git(repo, "config", "protocol.ext.allow", "always");
        var marker = Marker();

        var result = await Git.RunAsync(["ls-remote", "--", $"ext::sh -c touch% {marker}"], repo, ServerFixture.Ct);

        Assert.False(File.Exists(marker), "an ext:: source ran its command");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("transport 'ext' not allowed", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OfARepoRecordWhoseSourceLooksLikeAnOption_FailsClearlyAndNothingRuns()
    {
        // `repo add` refuses such a source; a record stored before it did may still hold one, and
        // another node mirrors a record's source the first time it runs one of its runs.
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Runs:Workers"] = "true", ["Sandbox:Isolation"] = "none" });
        var client = server.Client(await server.CreateTokenAsync());
        var marker = Marker();
        var repo = Guid.CreateVersion7().ToString();
        await server.Store.Repos.AddRepoAsync(
            new NewRepo(repo, await server.UserIdAsync(), "acme/evil", "main", "", $"--upload-pack=touch {marker};", null, server.Time.GetUtcNow()), ServerFixture.Ct);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "echo hi" });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal(
            "sandbox preparation failed: the repo's source starts with '-', which git would read as an option; link the repo again with a git URL or a local path",
            run.GetProperty("error").GetString());
        Assert.False(File.Exists(marker), "the record's source ran a command");
        Assert.False(Directory.Exists(DataDirectory.MirrorPath(server.DataDir, repo)));
    }

    /// <summary>A bare repository with one commit on <paramref name="branch"/> (git refuses such names as branches, not as refs).</summary>
    private static async Task<(string Source, string Commit)> SourceWithBranchAsync(string branch)
    {
        var root = Directory.CreateTempSubdirectory("mogplex-git-").FullName;
        var source = Path.Combine(root, "source.git");
        var work = Path.Combine(root, "work");
        GitRepos.Git(root, "init", "--quiet", "--bare", source);
        GitRepos.Git(root, "init", "--quiet", work);
        await File.WriteAllTextAsync(Path.Combine(work, "README.md"), "# demo\n", ServerFixture.Ct);
        GitRepos.Git(work, "add", "--all");
        GitRepos.Git(work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", "initial");
        var commit = GitRepos.Git(work, "rev-parse", "HEAD").Trim();
        GitRepos.Git(work, "push", "--quiet", "--", source, "HEAD:refs/heads/" + branch);
        return (source, commit);
    }
}
