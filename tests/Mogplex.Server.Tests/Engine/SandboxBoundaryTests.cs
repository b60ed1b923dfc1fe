using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// The attack suite of the sandbox (docs/security.md): each test is a run that tries to cross one
/// boundary through the real engine (exec harness, bubblewrap) and asserts from outside that it
/// did not: no marker written as the server, no capability, no host file, no loopback service,
/// bounded processes, memory, disk and delivery. The server runs in this process, as the test's
/// user (root in CI); <c>UnprivilegedServerTests</c> (end to end) repeats the core as another user.
/// </summary>
public sealed class SandboxBoundaryTests
{
    private static readonly Dictionary<string, string?> s_engine = new() { ["Runs:Workers"] = "true", ["Sandbox:Isolation"] = "bwrap", ["RateLimits:RequestsPerWindow"] = "100000" };

    private static Dictionary<string, string?> With(params (string Key, string Value)[] extra)
    {
        var config = new Dictionary<string, string?>(s_engine);
        foreach (var (k, v) in extra)
        {
            config[k] = v;
        }

        return config;
    }

    private static async Task<string> StartAsync(HttpClient client, string repo, string prompt, string branch) =>
        (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt, createBranch = true, workingBranch = branch })).Data.GetProperty("runId").GetString()!;

    private static async Task<(JsonElement Run, List<string> Messages)> RunAsync(ServerFixture server, HttpClient client, string repo, string script, string branch)
    {
        var id = await StartAsync(client, repo, script, branch);
        var run = await EngineTestKit.WaitTerminalAsync(client, id, TimeSpan.FromSeconds(120));
        var messages = (await EngineTestKit.AllEventsAsync(client, id)).Select(e => e.GetProperty("message").GetString() ?? "").ToList();
        return (run, messages);
    }

    private static string Marker() => Path.Combine(Path.GetTempPath(), "mogplex-escape-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<string> NestedRepositories() => new()
    {
        "filter",
        "fsmonitor",
        "gitfile",
        "include",
        "gitmodules",
        "attributes_file",
    };

    /// <summary>
    /// A repository the harness makes in a subfolder, whose configuration names a program. Delivery
    /// reads the work tree; before, <c>git status</c> entered the nested repository as the server
    /// and ran the program with the data folder in view.
    /// </summary>
    [Theory]
    [MemberData(nameof(NestedRepositories))]
    public async Task NestedRepository_ItsConfigurationRunsNothingAsTheServer(string vector)
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var marker = Marker();
        var touch = $"touch '{marker}'";
        var touchInPrintf = $"touch \"{marker}\"";
        var commit = "git -c user.name=a -c user.email=a@b.invalid commit -qm nested";
        var setup = vector switch
        {
            "filter" => $"git config filter.x.clean \"{touch}; cat\" && printf '* filter=x\\n' > .gitattributes && echo aaaa > f.txt && git add . && {commit} && printf 'bbbb\\n' > f.txt",
            "fsmonitor" => $"git config core.fsmonitor \"{touch}\" && echo a > f.txt && git add . && {commit} && echo b > f.txt",
            "include" => $"printf '[filter \"x\"]\\n\\tclean = {touchInPrintf}; cat\\n' > \"$top/.planted.cfg\" && printf '.planted.cfg\\n' > \"$top/.gitignore\" && git config include.path \"$top/.planted.cfg\" && printf '* filter=x\\n' > .gitattributes && echo aaaa > f.txt && git add . && {commit} && printf 'bbbb\\n' > f.txt",
            "attributes_file" => $"printf '* filter=x\\n' > \"$top/.planted-attributes\" && printf '.planted-attributes\\n' > \"$top/.gitignore\" && git config core.attributesFile \"$top/.planted-attributes\" && git config filter.x.clean \"{touch}; cat\" && echo aaaa > f.txt && git add . && {commit} && printf 'bbbb\\n' > f.txt",
            "gitmodules" => $"echo a > f.txt && git add . && {commit} && cd .. && printf '[submodule \"sub\"]\\n\\tpath = sub\\n\\turl = ./sub\\n\\tupdate = !{touchInPrintf}\\n' > .gitmodules && cd sub",
            "gitfile" => $"rm -rf .git && git init -q --bare \"$top/.planted.git\" && printf '.planted.git/\\n' > \"$top/.gitignore\" && git --git-dir \"$top/.planted.git\" config core.fsmonitor \"{touch}\" && git --git-dir \"$top/.planted.git\" config core.bare false && printf 'gitdir: %s\\n' \"$top/.planted.git\" > .git && echo a > f.txt",
            _ => throw new ArgumentOutOfRangeException(nameof(vector)),
        };
        var script = $"top=$PWD\nmkdir sub && cd sub && git init -q && {setup} && echo nested-ready\ncd \"$top\"\necho top > top.txt\necho planted";

        var (run, messages) = await RunAsync(server, client, repo, script, "w/nested-" + vector);

        Assert.True(run.GetProperty("status").GetString() == "success", run + "\n" + string.Join('\n', messages));
        Assert.Contains("nested-ready", messages);
        Assert.False(File.Exists(marker), $"a program a nested repository named ({vector}) ran as the server");
        var tree = GitRepos.Git(source, "ls-tree", "-r", "--name-only", "w/nested-" + vector);
        Assert.Contains("top.txt", tree, StringComparison.Ordinal);
        Assert.DoesNotContain("sub/.git", tree, StringComparison.Ordinal);
        Assert.DoesNotContain("160000", GitRepos.Git(source, "ls-tree", "-r", "w/nested-" + vector), StringComparison.Ordinal);
        Assert.Contains(messages, m => m.StartsWith("Not delivered: sub ", StringComparison.Ordinal));
    }

    /// <summary>A nested repository without a commit (git add stops at one) does not cost the run its delivery.</summary>
    [Fact]
    public async Task NestedRepositoryWithoutACommit_RestIsDelivered()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var (run, messages) = await RunAsync(server, client, repo, "mkdir -p a/sub && git -C a/sub init -q && echo x > a/sub/f.txt && echo y > a/kept.txt", "w/empty-nested");

        Assert.True(run.GetProperty("status").GetString() == "success", run + "\n" + string.Join('\n', messages));
        Assert.Equal("y\n", GitRepos.Git(source, "show", "w/empty-nested:a/kept.txt"));
        Assert.DoesNotContain("a/sub", GitRepos.Git(source, "ls-tree", "-r", "--name-only", "w/empty-nested"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Harness_HasNoCapabilityAndCannotUnmountOrRemount()
    {
        await using var server = await ServerFixture.StartAsync(s_engine);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var probe = "/usr/bin/mogplex-probe-" + Guid.NewGuid().ToString("N");
        var script = string.Join('\n',
            "echo \"uid=$(id -u)\"",
            "grep -E '^Cap(Eff|Prm|Bnd|Amb):' /proc/self/status",
            "grep NoNewPrivs /proc/self/status",
            "umount -l /usr 2>/dev/null && echo UMOUNTED",
            "mount -o remount,bind,rw / 2>/dev/null && echo REMOUNTED",
            "mount -o remount,bind,rw /usr 2>/dev/null && echo REMOUNTED",
            "unshare -U -r true 2>/dev/null && echo NEWUSERNS",
            "cat /etc/shadow >/dev/null 2>&1 && echo SHADOW",
            $"touch {probe} 2>/dev/null && echo WROTE_USR",
            "echo done");

        var (run, messages) = await RunAsync(server, client, repo, script, "w/caps");

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Contains("done", messages);
        foreach (var cap in new[] { "CapEff", "CapPrm", "CapBnd", "CapAmb" })
        {
            Assert.Contains($"{cap}:\t0000000000000000", messages);
        }

        Assert.Contains("NoNewPrivs:\t1", messages);
        Assert.DoesNotContain("UMOUNTED", messages);
        Assert.DoesNotContain("REMOUNTED", messages);
        Assert.DoesNotContain("NEWUSERNS", messages);
        Assert.DoesNotContain("SHADOW", messages);
        Assert.DoesNotContain("WROTE_USR", messages);
        Assert.False(File.Exists(probe), "the harness wrote into the host's /usr");
        if (Environment.IsPrivilegedProcess)
        {
            // Root server: the harness is a uid of its own on the host, never root.
            var uid = long.Parse(messages.Single(m => m.StartsWith("uid=", StringComparison.Ordinal))[4..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(uid, 2_000_000_000, 2_000_999_999);
        }
    }

    [Fact]
    public async Task HostFilesOutsideTheSandbox_AreInvisible()
    {
        var canaryDir = Path.Combine("/srv", "mogplex-canary-" + Guid.NewGuid().ToString("N")[..8]);
        var secret = "canary-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(canaryDir);
        await File.WriteAllTextAsync(Path.Combine(canaryDir, "secret.txt"), secret, TestContext.Current.CancellationToken);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        try
        {
            await using var server = await ServerFixture.StartAsync(s_engine);
            var client = server.Client(await server.CreateTokenAsync());
            var (repo, _) = await GitRepos.LinkAsync(server);
            var script = string.Join('\n',
                $"cat '{canaryDir}/secret.txt' 2>/dev/null",
                "ls /srv /opt /root /home 2>/dev/null",
                $"ls -la '{home}' 2>/dev/null | head -5",
                $"cat '{server.DataDir}/mogplex.db' 2>/dev/null | head -c 100 | od -c | head -2",
                "ls /etc",
                "echo done");

            var (run, messages) = await RunAsync(server, client, repo, script, "w/canary");

            Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
            Assert.Contains("done", messages);
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.Ordinal) || m.Contains("mogplex-canary-", StringComparison.Ordinal));
            Assert.DoesNotContain(messages, m => m.Contains("SQLite", StringComparison.Ordinal));
            Assert.DoesNotContain("shadow", messages);
            Assert.DoesNotContain("ssh", messages);
            Assert.Contains("passwd", messages);
        }
        finally
        {
            Directory.Delete(canaryDir, recursive: true);
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("model")]
    public async Task LoopbackServicesOfTheHost_AreUnreachable(string network)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var server = await ServerFixture.StartAsync(With(("Sandbox:Network", network)));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var script = string.Join('\n',
            $"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo REACHED_SERVICE",
            $"(exec 3<>/dev/tcp/127.0.0.1/{server.BaseAddress.Port}) 2>/dev/null && echo REACHED_API",
            "echo done");

        var (run, messages) = await RunAsync(server, client, repo, script, "w/loopback-" + network);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.Contains("done", messages);
        Assert.DoesNotContain("REACHED_SERVICE", messages);
        Assert.DoesNotContain("REACHED_API", messages);
        Assert.False(listener.Pending(), "a sandbox connected to a loopback service of the host");
    }

    /// <summary>With network <c>model</c>, a host that is neither a model endpoint nor allowed is refused by the egress proxy, and the run says so.</summary>
    [Fact]
    public async Task EgressToAHostNotAllowed_IsRefusedAndLogged()
    {
        using var allowed = new TcpListener(IPAddress.Loopback, 0);
        allowed.Start();
        var allowedPort = ((IPEndPoint)allowed.LocalEndpoint).Port;
        await using var server = await ServerFixture.StartAsync(With(("Sandbox:Network", "model"), ("Sandbox:AllowedHosts:0", $"127.0.0.1:{allowedPort}")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var script = string.Join('\n',
            "curl -s -o /dev/null -w 'code=%{http_code}\\n' https://registry.example.invalid/ || true",
            $"curl -s -o /dev/null -m 3 --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:{allowedPort}/ ; echo allowed-tried",
            "echo done");

        var accepted = allowed.AcceptSocketAsync(TestContext.Current.CancellationToken);
        var (run, messages) = await RunAsync(server, client, repo, script, "w/egress");

        Assert.True(run.GetProperty("status").GetString() == "success", run + "\n" + string.Join('\n', messages));
        Assert.Contains(messages, m => m.StartsWith("Refused a connection to registry.example.invalid:443", StringComparison.Ordinal));
        Assert.Contains("allowed-tried", messages);
        Assert.True(accepted.IsCompleted, "an allowed host was not reached through the egress proxy");
    }

    [Fact]
    public async Task ForkBomb_FailsThatRunClearlyWhileAnotherRunWorks()
    {
        await using var server = await ServerFixture.StartAsync(With(("Runs:MaxProcesses", "64")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var (bomb, _) = await RunAsync(server, client, repo, "for i in $(seq 1 400); do sleep 60 & done; wait", "w/forkbomb");
        var (fine, _) = await RunAsync(server, client, repo, "echo fine > fine.txt", "w/after-bomb");

        Assert.Equal("failed", bomb.GetProperty("status").GetString());
        Assert.Contains("process limit", bomb.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("success", fine.GetProperty("status").GetString());
        Assert.Equal("fine\n", GitRepos.Git(source, "show", "w/after-bomb:fine.txt"));
        Assert.Empty(Mogplex.Testing.ProcessTable.ProcessesUnder(server.DataDir));
    }

    [Fact]
    public async Task MemoryBomb_FailsThatRunClearly()
    {
        await using var server = await ServerFixture.StartAsync(With(("Runs:MaxMemoryBytes", (128L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        // The shell keeps the whole output of the substitution in memory: 1 GiB.
        var (bomb, _) = await RunAsync(server, client, repo, "x=$(head -c 1073741824 /dev/zero | tr '\\0' a); echo survived ${#x}", "w/membomb");
        var (fine, _) = await RunAsync(server, client, repo, "echo fine > fine.txt", "w/after-membomb");

        Assert.Equal("failed", bomb.GetProperty("status").GetString());
        Assert.Contains("memory limit", bomb.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("success", fine.GetProperty("status").GetString());
    }

    [Fact]
    public async Task DiskFill_FailsThatRunClearly()
    {
        await using var server = await ServerFixture.StartAsync(With(("Sandbox:MaxDiskBytes", (64L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var (fill, _) = await RunAsync(server, client, repo, "for i in $(seq 1 30); do head -c 10485760 /dev/urandom > fill-$i.bin; done; sleep 30; echo survived", "w/diskfill");

        Assert.Equal("failed", fill.GetProperty("status").GetString());
        Assert.Contains("disk limit", fill.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/diskfill"));
    }

    [Fact]
    public async Task OversizedFiles_AreNotDeliveredAndTheRunNamesThem()
    {
        await using var server = await ServerFixture.StartAsync(With(("Delivery:MaxFileBytes", "1048576"), ("Delivery:MaxTotalBytes", "3145728")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);

        var (sparse, _) = await RunAsync(server, client, repo, "truncate -s 2G sparse.bin && echo ok > small.txt", "w/sparse");
        var (total, _) = await RunAsync(server, client, repo, "for i in 1 2 3 4; do head -c 900000 /dev/urandom > part-$i.bin; done", "w/total");
        var (ignored, _) = await RunAsync(server, client, repo, "printf 'big.bin\\n' > .gitignore && truncate -s 2G big.bin && echo ok > small.txt", "w/ignored-big");

        Assert.Equal("failed", sparse.GetProperty("status").GetString());
        Assert.Contains("'sparse.bin'", sparse.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("Delivery:MaxFileBytes", sparse.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/sparse"));
        Assert.Equal("failed", total.GetProperty("status").GetString());
        Assert.Contains("Delivery:MaxTotalBytes", total.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/total"));
        Assert.True(ignored.GetProperty("status").GetString() == "success", ignored.ToString());
        Assert.Equal("ok\n", GitRepos.Git(source, "show", "w/ignored-big:small.txt"));
    }

    [Fact]
    public async Task IsolationNone_IsExplicitAndEveryRunAndHealthzSaySo()
    {
        await using var server = await ServerFixture.StartAsync(With(("Sandbox:Isolation", "none")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var (run, messages) = await RunAsync(server, client, repo, "echo hi", "w/none");
        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("data").GetProperty("sandbox");

        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Contains(messages, m => m.StartsWith("Warning: Sandbox:Isolation=none", StringComparison.Ordinal));
        Assert.Equal("none", body.GetProperty("isolation").GetString());
        Assert.Contains("unconfined", body.GetProperty("warning").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoWorkingSandbox_HarnessesAreRefusedUnlessIsolationNoneIsExplicit()
    {
        await using var server = await ServerFixture.StartAsync(With(("Sandbox:Isolation", "auto"), ("Sandbox:Bubblewrap", "/nonexistent/bwrap")));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var marker = Marker();

        var (run, messages) = await RunAsync(server, client, repo, $"touch '{marker}'", "w/refused");
        using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("data").GetProperty("sandbox");

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Contains("Sandbox:Isolation=none", run.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "a harness ran without isolation");
        Assert.Equal("unavailable", body.GetProperty("isolation").GetString());
        Assert.Throws<InvalidOperationException>(() => GitRepos.Git(source, "rev-parse", "--verify", "refs/heads/w/refused"));
        Assert.DoesNotContain(messages, m => m.StartsWith("Warning:", StringComparison.Ordinal));
    }
}
