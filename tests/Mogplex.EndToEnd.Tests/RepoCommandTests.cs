using Mogplex.Contracts.Json;
using Mogplex.Contracts.Repos;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary><c>mogplexd repo add|list|remove</c> with real git repositories, seen through the API.</summary>
public sealed class RepoCommandTests
{
    [Fact]
    public async Task RepoAdd_LocalBareRepoWithTrunkPushed_LinksMirrorAndDetectsTrunk()
    {
        await using var mogplexd = new MogplexdProcess();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "widgets");

        var result = await mogplexd.RunAsync("repo", "add", source.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        var id = result.StdOut.TrimEnd('\n');
        Assert.True(Guid.TryParse(id, out _) && !id.Contains('\n', StringComparison.Ordinal), result.ToString());
        Assert.Equal($"linked acme/widgets (default branch trunk) as {id}\n", result.StdErr);

        var mirror = Path.Combine(mogplexd.DataDir, "repos", id + ".git");
        Assert.True(Directory.Exists(mirror), $"no mirror at {mirror}");
        var mirrored = await ProcessRunner.RunCheckedAsync("git", ["--git-dir", mirror, "rev-parse", "refs/heads/trunk"]);
        Assert.Equal(source.Commit, mirrored.Trim());

        var list = await mogplexd.RunCheckedAsync("repo", "list");
        var rows = list.TrimEnd('\n').Split('\n');
        Assert.Equal(2, rows.Length);
        Assert.Equal([id, "acme/widgets", "trunk", ".", "admin", source.Path], System.Text.RegularExpressions.Regex.Split(rows[1], " {2,}"));

        var token = await mogplexd.CreateTokenAsync();
        var server = await mogplexd.StartServerAsync();
        var repos = (await Curl.GetAsync(server, Transport.Tcp, Curl.ApiBase + "/repos", token)).Json(MogplexJsonContext.Default.ApiEnvelopeRepoList);
        var repo = Assert.Single(repos.Data.Repos);
        Assert.Equal(new Repo(id, "acme/widgets", repo.InstallationId, "trunk", ""), repo);
        Assert.True(repo.InstallationId > 0, $"installation_id {repo.InstallationId}");
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task RepoAdd_PathThatIsNotARepository_ExitsOneWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();
        var notARepo = Directory.CreateDirectory(Path.Combine(mogplexd.RootDir, "plain-folder")).FullName;

        var result = await mogplexd.RunAsync("repo", "add", notARepo);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.StartsWith($"error: cannot read the git repository at {notARepo}: ", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(mogplexd.DataDir, "repos")));
        var list = await mogplexd.RunCheckedAsync("repo", "list");
        Assert.Single(list.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("--upload-pack=touch {0};")]
    [InlineData("-utouch {0};")]
    public async Task RepoAdd_SourceGitWouldReadAsAnOption_RefusedWithoutRunningIt(string template)
    {
        await using var mogplexd = new MogplexdProcess();
        var marker = Path.Combine(mogplexd.RootDir, "injected");
        var source = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, marker);

        var result = await mogplexd.RunAsync("repo", "add", source);

        Assert.False(File.Exists(marker), "the source's option ran a command: " + result);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal($"error: the source '{source}' starts with '-', which git would read as an option; give a git URL or a local path (./{source} for a folder of that name)\n", result.StdErr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(mogplexd.DataDir, "repos")));
    }

    [Fact]
    public async Task RepoAdd_ExtTransportSource_RefusedEvenWhenGitConfigurationAllowsIt()
    {
        await using var mogplexd = new MogplexdProcess();
        var marker = Path.Combine(mogplexd.RootDir, "injected");
        var source = $"ext::sh -c touch% {marker}";

        // The server user's git configuration allows ext:: (here through the environment, the
        // strongest place): the server's own git calls still do not.
        var allowExt = new Dictionary<string, string?> { ["GIT_CONFIG_COUNT"] = "1", ["GIT_CONFIG_KEY_0"] = "protocol.ext.allow", ["GIT_CONFIG_VALUE_0"] = "always" };
        var result = await mogplexd.RunAsync(["repo", "add", source], allowExt);

        Assert.False(File.Exists(marker), "the ext:: source ran its command: " + result);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: cannot read the git repository at {source}: fatal: transport 'ext' not allowed\n", result.StdErr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(mogplexd.DataDir, "repos")));
    }

    [Fact]
    public async Task RepoRemove_WhileServerRuns_RepoLeavesApiAndMirrorIsDeleted()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var server = await mogplexd.StartServerAsync();
        var keep = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "keep");
        var drop = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "drop");
        var keepId = (await mogplexd.RunCheckedAsync("repo", "add", keep.Path)).Trim();
        var dropId = (await mogplexd.RunCheckedAsync("repo", "add", drop.Path, "--name", "team/dropped")).Trim();

        var before = (await Curl.GetAsync(server, Transport.UnixSocket, Curl.ApiBase + "/repos", token)).Json(MogplexJsonContext.Default.ApiEnvelopeRepoList);
        Assert.Equal([(keepId, "acme/keep"), (dropId, "team/dropped")], before.Data.Repos.Select(r => (r.Id, r.FullName)));

        var remove = await mogplexd.RunAsync("repo", "remove", dropId);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Equal($"removed repo {dropId}\n", remove.StdErr);

        var after = (await Curl.GetAsync(server, Transport.UnixSocket, Curl.ApiBase + "/repos", token)).Json(MogplexJsonContext.Default.ApiEnvelopeRepoList);
        Assert.Equal([keepId], after.Data.Repos.Select(r => r.Id));
        Assert.False(Directory.Exists(Path.Combine(mogplexd.DataDir, "repos", dropId + ".git")), "the mirror of a removed repo is deleted");
        Assert.True(Directory.Exists(Path.Combine(mogplexd.DataDir, "repos", keepId + ".git")));
        var list = await mogplexd.RunCheckedAsync("repo", "list");
        Assert.DoesNotContain(dropId, list, StringComparison.Ordinal);
        Assert.Contains(keepId, list, StringComparison.Ordinal);

        var again = await mogplexd.RunAsync("repo", "remove", dropId);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: repo {dropId} not found\n", again.StdErr);
        Assert.Equal(0, await server.StopAsync());
    }
}
