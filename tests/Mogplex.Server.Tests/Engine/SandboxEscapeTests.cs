using Mogplex.Server.Configuration;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// A harness owns its checkout, <c>.git</c> included, and git runs programs a repository names
/// (<c>core.fsmonitor</c>, filter drivers, hooks). The server runs git in that checkout to
/// deliver and to reuse the sandbox, outside bubblewrap: none of what the harness planted may run
/// there. Each harness below plants one way in whose program would create a marker file outside
/// the sandbox (inside bubblewrap /tmp is private, so only a process of the server could make it).
/// </summary>
public sealed class SandboxEscapeTests
{
    private static readonly Dictionary<string, string?> s_engine = new() { ["Runs:Workers"] = "true", ["Sandbox:Isolation"] = "bwrap", ["RateLimits:RequestsPerWindow"] = "100000" };

    private static readonly string[] s_hooks = ["pre-commit", "post-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-push", "post-merge"];

    public static TheoryData<string> Plants() => new()
    {
        "fsmonitor",
        "filter",
        "hooks",
        "hooks_path",
        "gitfile",
        "parent_git",
    };

    /// <summary>The harness script that plants <paramref name="vector"/>; every planted program runs <c>touch MARKER</c>.</summary>
    private static string Plant(string vector, string marker)
    {
        var touch = $"touch '{marker}'";
        var hooks = string.Join('\n', s_hooks.Select(h => $"printf '#!/bin/sh\\n{touch}\\n' > \"$HOOKS/{h}\" && chmod +x \"$HOOKS/{h}\""));
        return vector switch
        {
            "fsmonitor" => $"git config core.fsmonitor \"{touch}\"",
            "filter" => $"printf '* filter=evil\\n' > .gitattributes\ngit config filter.evil.clean \"{touch}; cat\"",
            "hooks" => $"HOOKS=.git/hooks\n{hooks}",
            "hooks_path" => $"mkdir -p ../planted-hooks && HOOKS=../planted-hooks\n{hooks}\ngit config core.hooksPath \"$PWD/../planted-hooks\"",
            "gitfile" => $"cp -r .git ../other.git && rm -rf .git && printf 'gitdir: ../other.git\\n' > .git\ngit --git-dir ../other.git config core.fsmonitor \"{touch}\"",
            "parent_git" => $"cp -r .git ../.git && rm -rf .git\ngit --git-dir ../.git config core.fsmonitor \"{touch}\"\ngit --git-dir ../.git config core.worktree \"$PWD\"",
            _ => throw new ArgumentOutOfRangeException(nameof(vector)),
        };
    }

    private static string Marker() => Path.Combine(Path.GetTempPath(), "mogplex-escape-" + Guid.NewGuid().ToString("N"));

    private static async Task<string> StartAsync(HttpClient client, string repo, string prompt, string branch) =>
        (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt, createBranch = true, workingBranch = branch })).Data.GetProperty("runId").GetString()!;

    [Theory]
    [MemberData(nameof(Plants))]
    public async Task Delivery_RunsNothingTheHarnessPlantedInItsCheckout(string vector)
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var marker = Marker();

        var runId = await StartAsync(client, repo, Plant(vector, marker) + "\necho changed > changed.txt\necho planted", "w/" + vector);
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.False(File.Exists(marker), $"a program planted through {vector} ran as the server");
        var commit = run.GetProperty("commit").GetString()!;
        Assert.Equal(commit, GitRepos.Git(source, "rev-parse", "refs/heads/w/" + vector).Trim());
        Assert.Equal("changed\n", GitRepos.Git(source, "show", $"w/{vector}:changed.txt"));
        Assert.Equal("# demo\n", GitRepos.Git(source, "show", $"w/{vector}:README.md"));
        var tree = GitRepos.Git(source, "ls-tree", "-r", "--name-only", "w/" + vector);
        Assert.DoesNotContain(".git/", tree, StringComparison.Ordinal);
        Assert.DoesNotContain("other.git", tree, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReusedSandbox_PreparedWithoutRunningWhatThePreviousRunPlanted()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var marker = Marker();
        var plantAll = string.Join('\n', Plant("fsmonitor", marker), Plant("hooks", marker), "printf '* filter=evil\\n' > .git/info/attributes", $"git config filter.evil.smudge \"touch '{marker}'; cat\"");

        var first = await EngineTestKit.WaitTerminalAsync(client, await StartAsync(client, repo, plantAll + "\necho one > one.txt\necho local > untracked-but-ignored.log\nprintf '*.log\\n' > .gitignore", "w/reuse"));
        Assert.True(first.GetProperty("status").GetString() == "success", first.ToString());
        Assert.False(File.Exists(marker), "the first run's delivery ran a planted program");

        var probe = string.Join('\n',
            "echo fsmonitor=$(git config core.fsmonitor)",
            "echo hooks=$(ls .git/hooks | grep -v '\\.sample$' | tr '\\n' ' ')",
            "echo head=$(git symbolic-ref HEAD)",
            "echo status=$(git status --porcelain | tr '\\n' ' ')",
            "echo kept=$(cat untracked-but-ignored.log)",
            "echo two > two.txt");
        var secondId = await StartAsync(client, repo, probe, "w/reuse");
        var second = await EngineTestKit.WaitTerminalAsync(client, secondId);

        Assert.True(second.GetProperty("status").GetString() == "success", second.ToString());
        Assert.False(File.Exists(marker), "preparing the reused sandbox ran a program the previous run planted");
        Assert.Equal(first.GetProperty("sandboxRecordId").GetString(), second.GetProperty("sandboxRecordId").GetString());
        var messages = (await EngineTestKit.AllEventsAsync(client, secondId)).Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("fsmonitor=", messages);
        Assert.Contains("hooks=", messages);
        Assert.Contains("head=refs/heads/w/reuse", messages);
        Assert.Contains("status=", messages);
        Assert.Contains("kept=local", messages);
        Assert.Equal("one\n", GitRepos.Git(source, "show", "w/reuse:one.txt"));
        Assert.Equal("two\n", GitRepos.Git(source, "show", "w/reuse:two.txt"));
        Assert.Equal(first.GetProperty("commit").GetString(), GitRepos.Git(source, "rev-parse", "w/reuse~1").Trim());
    }

    /// <summary>
    /// Confined, the checkout is a mount point in a folder the harness cannot write: the swap itself
    /// fails. Unconfined (isolation none), the harness can make it, and the server refuses to follow it.
    /// </summary>
    [Theory]
    [InlineData("bwrap")]
    [InlineData("none")]
    public async Task CheckoutReplacedByALinkToTheDataFolder_RunFailsAndNothingOfTheServerIsPushed(string isolation)
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>(s_engine) { ["Sandbox:Isolation"] = isolation });
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        // The link is only text inside the sandbox (the data folder is hidden there); followed by the server it is the real folder.
        var script = $"cd .. && mv repo repo-moved && ln -s '{server.DataDir}' repo && echo swapped";
        var runId = await StartAsync(client, repo, script, "w/link");
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        var messages = (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetProperty("message").GetString()).ToList();
        if (isolation == "none")
        {
            Assert.Contains("checkout", run.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Contains("swapped", messages);
        }
        else
        {
            Assert.DoesNotContain("swapped", messages);
        }

        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/link"));
        Assert.True(File.Exists(DataDirectory.DatabasePath(server.DataDir)));
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, ".git")));
    }

    [Fact]
    public async Task GitLinkedToTheMirror_MirrorUntouchedAndNextRunsWork()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var mirror = DataDirectory.MirrorPath(server.DataDir, repo);

        // The mirror is readable in the sandbox: a .git that is a link to it would make the
        // server's add and commit write into the mirror.
        var script = $"rm -rf .git && ln -s '{mirror}' .git && echo mine > mine.txt";
        var run = await EngineTestKit.WaitTerminalAsync(client, await StartAsync(client, repo, script, "w/mirror-link"));

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Equal("mine\n", GitRepos.Git(source, "show", "w/mirror-link:mine.txt"));
        Assert.Equal("true", GitRepos.Git(mirror, "config", "core.bare").Trim());
        Assert.False(File.Exists(Path.Combine(mirror, "index")));
        var next = await EngineTestKit.WaitTerminalAsync(client, await StartAsync(client, repo, "echo next > next.txt", "w/next"));
        Assert.Equal("success", next.GetProperty("status").GetString());
        Assert.Equal("# demo\n", GitRepos.Git(source, "show", "w/next:README.md"));
    }

    [Fact]
    public async Task RootDirectoryThroughATrackedLink_RunFailsWithoutCreatingAnythingOutside()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;
        var (repo, _) = await GitRepos.LinkAsync(server);

        // A delivered commit may hold a link; a later run rooted below it must not make the
        // server create folders where the link points.
        var first = await EngineTestKit.WaitTerminalAsync(client, await StartAsync(client, repo, $"ln -s '{outside}' sub", "w/linked-root"));
        Assert.True(first.GetProperty("status").GetString() == "success", first.ToString());
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true", workingBranch = "w/linked-root", rootDirectory = "sub/deeper" });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("root directory", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }
}
