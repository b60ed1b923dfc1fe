using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>The run engine end to end in process: real git, real processes, the exec harness.</summary>
public sealed class ExecRunTests
{
    private static readonly string[] s_fromPool = ["warm_after_wait", "warm"];

    private static readonly Dictionary<string, string?> s_engine = new() { ["Runs:Workers"] = "true", ["RateLimits:RequestsPerWindow"] = "100000", ["Sandbox:Isolation"] = "none" };

    private static Task<JsonElement> WaitTerminalAsync(HttpClient client, string runId, TimeSpan? timeout = null) =>
        EngineTestKit.WaitTerminalAsync(client, runId, timeout);

    private static Task<List<JsonElement>> AllEventsAsync(HttpClient client, string runId) => EngineTestKit.AllEventsAsync(client, runId);

    [Fact]
    public async Task ExecRun_ChangesRepo_CommitLandsOnWorkingBranchOfSource()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "echo hi > hello.txt\necho wrote it", createBranch = true, workingBranch = "feature/hello" });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        var run = await WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("success", run.GetProperty("status").GetString());
        var commit = run.GetProperty("commit").GetString()!;
        Assert.Equal(commit, GitRepos.Git(source, "rev-parse", "refs/heads/feature/hello").Trim());
        Assert.Equal("hi\n", GitRepos.Git(source, "show", "feature/hello:hello.txt"));
        Assert.Equal("echo hi > hello.txt", GitRepos.Git(source, "log", "-1", "--format=%s", "feature/hello").Trim());
        Assert.NotEqual(JsonValueKind.Null, run.GetProperty("sandboxId").ValueKind);

        var events = await AllEventsAsync(client, run.GetProperty("runId").GetString()!);
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("started", types[0]);
        Assert.Contains("status_changed", types);
        Assert.Equal("finished", types[^1]);
        Assert.Contains(events, e => e.GetProperty("message").GetString() == "wrote it");
        var delivery = events.Single(e => e.GetProperty("payload").ValueKind == JsonValueKind.Object
            && e.GetProperty("payload").TryGetProperty("stage", out var s) && s.GetString() == "git_delivery");
        Assert.Equal(commit, delivery.GetProperty("payload").GetProperty("commit").GetString());
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task ExecRun_NoChanges_SuccessWithoutCommit()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true" });
        var run = await WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("commit").ValueKind);
        var events = await AllEventsAsync(client, run.GetProperty("runId").GetString()!);
        Assert.Contains(events, e => e.GetProperty("message").GetString() == "No code changes to deliver");
    }

    [Fact]
    public async Task ExecRun_SameSizeEditsRightAfterTheCheckout_Delivered()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server, new Dictionary<string, string> { ["a.txt"] = "aaaa\n", ["b/c.txt"] = "cccc\n" });

        // Same sizes, and (on the branch's first run) within moments of the checkout: only the
        // content tells them apart, which delivery must notice although it reuses file stamps.
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "printf 'AAAA\\n' > a.txt\nprintf 'CCCC\\n' > b/c.txt", createBranch = true, workingBranch = "w/same-size" });
        var run = await WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Equal("AAAA\n", GitRepos.Git(source, "show", "w/same-size:a.txt"));
        Assert.Equal("CCCC\n", GitRepos.Git(source, "show", "w/same-size:b/c.txt"));
    }

    [Fact]
    public async Task ExecRuns_OneBranchTwoRootDirectories_TakeTurnsAndBothDeliver()
    {
        // Two roots are two sandboxes, so nothing but the queue keeps the runs apart: run side by
        // side, the later delivery would be refused (the branch moved under it).
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server, new Dictionary<string, string> { ["a/keep.txt"] = "a\n", ["b/keep.txt"] = "b\n" });
        var gate = Path.Combine(Directory.CreateTempSubdirectory("mogplex-gate-").FullName, "open");

        var first = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = $"echo one > one.txt\nwhile [ ! -e '{gate}' ]; do sleep 0.05; done", createBranch = true, workingBranch = "w/turns", rootDirectory = "a" })).Data.GetProperty("runId").GetString()!;
        await Waits.UntilAsync(() => ApiClient.GetAsync(client, $"/runs/{first}"), r => r.Data.GetProperty("run").GetProperty("status").GetString() == "streaming", TimeSpan.FromSeconds(60), "the first run to stream");
        var second = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "echo two > two.txt", createBranch = true, workingBranch = "w/turns", rootDirectory = "b" })).Data.GetProperty("runId").GetString()!;

        // A run on another branch, accepted after the second, is claimed and ends meanwhile: the
        // workers were free, and the second still waits for its branch.
        var probe = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true", createBranch = true, workingBranch = "w/probe" })).Data.GetProperty("runId").GetString()!;
        Assert.Equal("success", (await WaitTerminalAsync(client, probe)).GetProperty("status").GetString());
        Assert.Equal("pending", (await ApiClient.GetAsync(client, $"/runs/{second}")).Data.GetProperty("run").GetProperty("status").GetString());
        Assert.DoesNotContain(await AllEventsAsync(client, second), e => e.GetProperty("message").GetString() == "Preparing sandbox");

        await File.WriteAllTextAsync(gate, "", ServerFixture.Ct);
        var firstRun = await WaitTerminalAsync(client, first);
        var secondRun = await WaitTerminalAsync(client, second);

        Assert.True(firstRun.GetProperty("status").GetString() == "success", firstRun.ToString());
        Assert.True(secondRun.GetProperty("status").GetString() == "success", secondRun.ToString());
        Assert.Equal(secondRun.GetProperty("commit").GetString(), GitRepos.Git(source, "rev-parse", "w/turns").Trim());
        Assert.Equal(firstRun.GetProperty("commit").GetString(), GitRepos.Git(source, "rev-parse", "w/turns~1").Trim());
        Assert.Equal("one\n", GitRepos.Git(source, "show", "w/turns:a/one.txt"));
        Assert.Equal("two\n", GitRepos.Git(source, "show", "w/turns:b/two.txt"));
    }

    [Fact]
    public async Task ExecRun_HarnessCommitsItself_WorkTreeDeliveredAsOneCommitOnTheBase()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var baseCommit = GitRepos.Git(source, "rev-parse", "main").Trim();

        // The harness's own commits are not delivered as they are (its .git is not trusted):
        // what it left in the work tree is, as one commit on the commit the sandbox started at.
        var script = string.Join('\n',
            "echo one > one.txt && git add -A && git -c user.name=a -c user.email=a@example.invalid commit -qm first",
            "echo two > two.txt && git add -A && git -c user.name=a -c user.email=a@example.invalid commit -qm second",
            "git status --porcelain | wc -l | sed 's/^ */dirty=/'");
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = script, createBranch = true, workingBranch = "w/self-commit" });
        var run = await WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        var messages = (await AllEventsAsync(client, run.GetProperty("runId").GetString()!)).Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("dirty=0", messages);
        Assert.Equal(run.GetProperty("commit").GetString(), GitRepos.Git(source, "rev-parse", "w/self-commit").Trim());
        Assert.Equal(baseCommit, GitRepos.Git(source, "rev-parse", "w/self-commit~1").Trim());
        Assert.Equal("one\n", GitRepos.Git(source, "show", "w/self-commit:one.txt"));
        Assert.Equal("two\n", GitRepos.Git(source, "show", "w/self-commit:two.txt"));
    }

    [Fact]
    public async Task ExecRun_NonZeroExit_FailedWithReasonAndNoDelivery()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "echo partial > p.txt\nexit 3", createBranch = true, workingBranch = "w/fail" });
        var run = await WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("exec harness exited with code 3", run.GetProperty("error").GetString());
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/fail"));
    }

    [Fact]
    public async Task ExecRun_CancelWhileStreaming_CancelledAndNoProcessLeft()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var marker = "mogplex-cancel-" + Guid.NewGuid().ToString("N");

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = $"bash -c 'sleep 300; true' {marker}-child &\necho started\nbash -c 'sleep 300; true' {marker}-main" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        await Waits.UntilAsync(() => AllEventsAsync(client, runId), e => e.Any(x => x.GetProperty("message").GetString() == "started"), what: "the script to start");
        await Waits.UntilAsync(() => Task.FromResult(ProcessesMatching(marker).Count), n => n >= 2, what: "both sleepers to run");

        var cancel = await ApiClient.PostAsync(client, $"/runs/{runId}/cancel");

        Assert.Equal(HttpStatusCode.OK, cancel.Status);
        Assert.Equal("cancelled", cancel.Data.GetProperty("status").GetString());
        Assert.False(cancel.Data.GetProperty("alreadyTerminal").GetBoolean());
        Assert.Empty(ProcessesMatching(marker));
        var types = (await AllEventsAsync(client, runId)).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["cancel_requested", "cancelled"], types.TakeLast(2));
    }

    [Fact]
    public async Task ExecRun_ChattyHarness_EveryLineStoredInOrder()
    {
        const int lines = 200_000;
        // Under Runs:MaxEvents nothing is dropped, however fast the lines come (OutputLimitTests: over it).
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>(s_engine) { ["RateLimits:RequestsPerWindow"] = "100000", ["Runs:MaxEvents"] = "250000" });
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = $"seq 1 {lines}" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await WaitTerminalAsync(client, runId, TimeSpan.FromMinutes(3));
        Assert.Equal("success", run.GetProperty("status").GetString());

        var numbers = new List<int>(lines);
        long after = 0;
        while (true)
        {
            var batch = await server.Store.Events.ListAsync(runId, after, 5_000, ServerFixture.Ct);
            if (batch.Count == 0)
            {
                break;
            }

            numbers.AddRange(batch.Where(e => e.Type == "log" && int.TryParse(e.Message, out _)).Select(e => int.Parse(e.Message!, System.Globalization.CultureInfo.InvariantCulture)));
            after = batch[^1].Seq;
        }

        Assert.Equal(Enumerable.Range(1, lines), numbers);
    }

    [Fact]
    public async Task ExecRuns_NewBranchesFromOneBase_TakeWarmCheckoutsWithTheBaseContent()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server, new Dictionary<string, string> { ["README.md"] = "base\n", ["src/a.txt"] = "a\n" });

        var sawWarm = false;
        for (var i = 0; i < 10 && !sawWarm; i++)
        {
            var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "cat README.md src/a.txt\ngit status --porcelain | wc -l\necho x > new.txt", createBranch = true, workingBranch = $"warm/{i}" });
            var runId = start.Data.GetProperty("runId").GetString()!;
            var run = await WaitTerminalAsync(client, runId);
            Assert.Equal("success", run.GetProperty("status").GetString());
            var events = await AllEventsAsync(client, runId);
            var messages = events.Select(e => e.GetProperty("message").GetString()).ToList();
            Assert.Equal(["base", "a", "0"], messages.SkipWhile(m => m != "base").Take(3));
            Assert.Equal("x\n", GitRepos.Git(source, "show", $"warm/{i}:new.txt"));
            Assert.Equal(GitRepos.Git(source, "rev-parse", "main").Trim(), GitRepos.Git(source, "rev-parse", $"warm/{i}~1").Trim());
            var sync = events.Single(e => e.GetProperty("message").GetString()!.StartsWith("Synchronized", StringComparison.Ordinal));
            sawWarm = sync.GetProperty("payload").GetProperty("checkout").GetString() == "warm";
        }

        Assert.True(sawWarm, "no run took a warm checkout in 10 runs");
    }

    [Fact]
    public async Task ExecRuns_BaseMovedBetweenRuns_NewBranchStartsFromTheNewTip()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server, new Dictionary<string, string> { ["README.md"] = "base\n" });
        var pool = server.Services.GetRequiredService<WarmCheckoutPool>();
        var first = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true", createBranch = true, workingBranch = "moved/1" });
        Assert.Equal("success", (await WaitTerminalAsync(client, first.Data.GetProperty("runId").GetString()!)).GetProperty("status").GetString());
        var oldTip = GitRepos.Git(source, "rev-parse", "main").Trim();
        await Waits.UntilAsync(() => Task.FromResult(pool.ReadyCount(repo, "main", oldTip)), n => n == 2, what: "two warm checkouts at the first tip");

        var work = Path.Combine(Path.GetDirectoryName(source)!, "work");
        await File.WriteAllTextAsync(Path.Combine(work, "README.md"), "moved\n", ServerFixture.Ct);
        GitRepos.Git(work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-am", "move main");
        GitRepos.Git(work, "push", "--quiet", "origin", "HEAD:main");
        var newTip = GitRepos.Git(source, "rev-parse", "main").Trim();
        var second = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "cat README.md\ngit rev-parse HEAD\necho x > new.txt", createBranch = true, workingBranch = "moved/2" });
        var runId = second.Data.GetProperty("runId").GetString()!;
        var run = await WaitTerminalAsync(client, runId);

        Assert.Equal("success", run.GetProperty("status").GetString());
        var events = await AllEventsAsync(client, runId);
        var messages = events.Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Equal(["moved", newTip], messages.SkipWhile(m => m != "moved").Take(2));
        Assert.Equal(newTip, GitRepos.Git(source, "rev-parse", "moved/2~1").Trim());
        var sync = events.Single(e => e.GetProperty("message").GetString()!.StartsWith("Synchronized", StringComparison.Ordinal));
        // Taken from the pool (brought to the new tip in place while the run waited, or just before it asked), never cloned.
        Assert.Contains(sync.GetProperty("payload").GetProperty("checkout").GetString(), s_fromPool);
    }

    private static List<int> ProcessesMatching(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(marker, StringComparison.Ordinal) && pid != Environment.ProcessId)
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
