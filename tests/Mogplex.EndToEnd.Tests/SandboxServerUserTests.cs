using System.Net.Http.Json;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// The sandbox's core boundaries with the published server run as root (as CI runs it) and as an
/// unprivileged user (uid 65534 when the test is root): no capability, a uid that is not root, host
/// files and loopback services out of reach, a nested repository's programs never run as the
/// server; and a fork bomb, a memory bomb and a disk fill each end their run while another user's
/// run works, with the limits of each server user: control groups (root), rlimits and the
/// run's PID namespace counted (unprivileged), delegated control groups (unprivileged after
/// <c>mogplexd limits delegate</c>). The in-process attack suite (Mogplex.Server.Tests,
/// SandboxBoundaryTests) covers every vector as the test's own user.
/// </summary>
public sealed class SandboxServerUserTests
{
    private const int Unprivileged = 65534;

    public static TheoryData<string> ServerUsers() => Environment.IsPrivilegedProcess ? new() { "root", "unprivileged" } : new() { "self" };

    public static TheoryData<string> LimitUsers() => Environment.IsPrivilegedProcess ? new() { "root", "unprivileged", "delegated" } : new() { "self" };

    private static async Task<(MogplexdProcess Mogplexd, ServerProcess Server, HttpClient Client, string RepoId)> StartAsync(string user, IReadOnlyDictionary<string, string?>? env = null)
    {
        var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "sandbox");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        // The tests poll the run: no request limit in the way.
        var serverEnv = new Dictionary<string, string?>(ExecRuns.Unlimited);
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            serverEnv[k] = v;
        }

        if (user is "unprivileged" or "delegated")
        {
            mogplexd.RunAsUid = Unprivileged;
            mogplexd.GiveToRunAsUser();
            serverEnv["HOME"] = mogplexd.RootDir;
        }

        if (user == "delegated")
        {
            // As root, before the server starts, as an operator would (the command runs as the test's user).
            var delegated = await mogplexd.RunAsync(["limits", "delegate", "--user", Unprivileged.ToString(System.Globalization.CultureInfo.InvariantCulture)], env: null);
            Assert.True(delegated.ExitCode == 0, delegated.ToString());
            mogplexd.OnDispose(() => RemoveGroups(delegated.StdOut));
        }

        var server = await mogplexd.StartServerAsync(serverEnv, "--dev");
        return (mogplexd, server, server.CreateClient(token), repoId);
    }

    [Theory]
    [MemberData(nameof(ServerUsers))]
    public async Task Run_HasNoCapabilityNoHostFilesNoLoopbackAndRunsNothingAsTheServer(string user)
    {
        var (mogplexd, server, client, repoId) = await StartAsync(user);
        await using var _ = mogplexd;
        using var __ = client;
        var marker = Path.Combine(Path.GetTempPath(), "mogplex-escape-" + Guid.NewGuid().ToString("N"));
        var canaryDir = Directory.CreateTempSubdirectory("mogplex-canary-").FullName;
        File.SetUnixFileMode(canaryDir, (UnixFileMode)0b111_101_101);
        var secret = "canary-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(canaryDir, "secret.txt"), secret, TestContext.Current.CancellationToken);
        File.SetUnixFileMode(Path.Combine(canaryDir, "secret.txt"), (UnixFileMode)0b110_100_100);
        try
        {
            var script = string.Join('\n',
                "echo \"uid=$(id -u)\"",
                "grep -E '^CapEff:' /proc/self/status",
                "umount -l /usr 2>/dev/null && echo UMOUNTED",
                "cat /etc/shadow >/dev/null 2>&1 && echo SHADOW",
                $"cat '{canaryDir}/secret.txt' 2>/dev/null",
                $"(exec 3<>/dev/tcp/127.0.0.1/{server.BaseAddress.Port}) 2>/dev/null && echo REACHED_API",
                "top=$PWD",
                $"mkdir sub && cd sub && git init -q && git config filter.x.clean \"touch '{marker}'; cat\" && printf '* filter=x\\n' > .gitattributes && echo aaaa > f.txt && git add . && git -c user.name=a -c user.email=a@b.invalid commit -qm x && printf 'bbbb\\n' > f.txt",
                "cd \"$top\" && echo top > top.txt",
                "echo done");
            var runId = await ExecRuns.StartRunAsync(client, repoId, script, "attack-" + user);
            var run = await ExecRuns.WaitForStatusAsync(client, runId, RunStatuses.IsTerminal);
            var messages = (await ExecRuns.EventsAsync(client, runId)).Select(e => e.Message ?? "").ToList();

            Assert.True(run.Status == RunStatuses.Success, $"{run.Status}: {run.Error}\n{string.Join('\n', messages)}");
            Assert.Contains("done", messages);
            Assert.Contains("CapEff:\t0000000000000000", messages);
            var uid = long.Parse(messages.Single(m => m.StartsWith("uid=", StringComparison.Ordinal))[4..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.NotEqual(0, uid);
            Assert.DoesNotContain("UMOUNTED", messages);
            Assert.DoesNotContain("SHADOW", messages);
            Assert.DoesNotContain("REACHED_API", messages);
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.Ordinal));
            Assert.False(File.Exists(marker), "a nested repository's filter ran as the server");
            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            Directory.Delete(canaryDir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(LimitUsers))]
    public async Task Bombs_EachEndsItsRunClearlyWhileAnotherUsersRunWorks(string user)
    {
        var env = new Dictionary<string, string?>
        {
            ["MOGPLEXD_Runs__MaxProcesses"] = "64",
            ["MOGPLEXD_Runs__MaxMemoryBytes"] = (128L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MOGPLEXD_Sandbox__MaxDiskBytes"] = (64L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var (mogplexd, server, client, repoId) = await StartAsync(user, env);
        await using var _ = mogplexd;
        using var __ = client;
        await mogplexd.RunCheckedAsync("user", "add", "bob");
        using var bob = server.CreateClient((await mogplexd.RunCheckedAsync("token", "create", "--name", "bob", "--user", "bob")).Trim());
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "bob", "bobs");
        var bobRepo = (await mogplexd.RunCheckedAsync("repo", "add", source.Path, "--user", "bob")).Trim();
        if (user is "unprivileged" or "delegated")
        {
            mogplexd.GiveToRunAsUser();
        }

        var health = await server.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
        var expected = user switch { "unprivileged" => "\"limits\":\"rlimits\"", "self" => "\"limits\"", _ => "\"limits\":\"cgroup-v" };
        Assert.Contains(expected, health, StringComparison.Ordinal);

        // Bob's run works through all three bombs.
        var bobRun = await ExecRuns.StartRunAsync(bob, bobRepo, "for i in $(seq 1 60); do echo $i > count.txt; sleep 0.25; done; echo fine", "bob-" + user);
        var fork = await ExecRuns.StartRunAsync(client, repoId, "for i in $(seq 1 400); do sleep 60 & done; wait; echo survived", "fork-" + user);
        var memory = await ExecRuns.StartRunAsync(client, repoId, "x=$(head -c 1073741824 /dev/zero | tr '\\0' a); echo survived ${#x}", "memory-" + user);
        var disk = await ExecRuns.StartRunAsync(client, repoId, "for i in $(seq 1 30); do head -c 10485760 /dev/urandom > fill-$i.bin; done; sleep 30; echo survived", "disk-" + user);

        var forkRun = await ExecRuns.WaitTerminalAsync(client, fork, TimeSpan.FromSeconds(90));
        var memoryRun = await ExecRuns.WaitTerminalAsync(client, memory, TimeSpan.FromSeconds(90));
        var diskRun = await ExecRuns.WaitTerminalAsync(client, disk, TimeSpan.FromSeconds(90));
        var bobDone = await ExecRuns.WaitTerminalAsync(bob, bobRun, TimeSpan.FromSeconds(90));

        Assert.True(forkRun.Status == RunStatuses.Failed && forkRun.Error!.Contains("process limit", StringComparison.Ordinal), $"{forkRun.Status}: {forkRun.Error}");
        Assert.True(diskRun.Status == RunStatuses.Failed && diskRun.Error!.Contains("disk limit", StringComparison.Ordinal), $"{diskRun.Status}: {diskRun.Error}");
        Assert.True(memoryRun.Status == RunStatuses.Failed && memoryRun.Error!.Contains("memory", StringComparison.Ordinal), $"{memoryRun.Status}: {memoryRun.Error}");
        Assert.True(bobDone.Status == RunStatuses.Success, $"{bobDone.Status}: {bobDone.Error}");
        Assert.Contains("fine", (await ExecRuns.EventsAsync(bob, bobRun)).Select(e => e.Message));
        foreach (var run in new[] { fork, memory, disk })
        {
            Assert.DoesNotContain((await ExecRuns.EventsAsync(client, run)).Select(e => e.Message ?? ""), m => m.StartsWith("survived", StringComparison.Ordinal));
        }

        Assert.Empty(Mogplex.Testing.ProcessTable.ProcessesUnder(mogplexd.DataDir));
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>Removes the delegated groups (the server removed its runs' groups inside them).</summary>
    private static void RemoveGroups(string listed)
    {
        foreach (var dir in listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var child in Directory.Exists(dir) ? Directory.GetDirectories(dir) : [])
            {
                Directory.Delete(child);
            }

            if (Directory.Exists(dir))
            {
                Directory.Delete(dir);
            }
        }
    }

    /// <summary>
    /// A run that makes its sandbox hard to remove (folders without permissions, a read-only tree,
    /// a tree deeper than PATH_MAX) and plants links to a folder of the host still has it removed
    /// when the sandbox stops, and what the links point to is left alone: as root, and as an
    /// unprivileged server, for which the permissions really bind.
    /// </summary>
    [Theory]
    [MemberData(nameof(ServerUsers))]
    public async Task ObstructedSandbox_StopRemovesItsFolder(string user)
    {
        var (mogplexd, server, client, repoId) = await StartAsync(user);
        await using var _ = mogplexd;
        using var __ = client;

        // Links to a folder elsewhere on the host, writable by anyone: the removal must not follow them.
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;
        File.SetUnixFileMode(outside, (UnixFileMode)0b111_111_111);
        await File.WriteAllTextAsync(Path.Combine(outside, "keep.txt"), "keep", TestContext.Current.CancellationToken);
        mogplexd.OnDispose(() => Directory.Delete(outside, recursive: true));
        var script = string.Join('\n',
            $"ln -s '{outside}' ../home/out && ln -s '{outside}/keep.txt' ../home/keep-link && ln -s '{outside}' linked-folder",
            "mkdir -p ../home/locked/inner && touch ../home/locked/inner/f && chmod 000 ../home/locked/inner ../home/locked",
            "mkdir -p ../home/ro/a/b && touch ../home/ro/a/b/f && chmod -R a-w ../home/ro",
            "(cd ../home && for i in $(seq 120); do mkdir -p d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d && cd d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d; done && touch f && chmod 000 ..)",
            "mkdir -p sub && touch sub/f && chmod 000 sub",
            "echo obstructed");
        var runId = await ExecRuns.StartRunAsync(client, repoId, script, "obstruct-" + user);
        var run = await ExecRuns.WaitForStatusAsync(client, runId, RunStatuses.IsTerminal);
        var messages = (await ExecRuns.EventsAsync(client, runId)).Select(e => e.Message ?? "").ToList();
        Assert.True(messages.Contains("obstructed"), string.Join('\n', messages));
        var folder = Path.Combine(mogplexd.DataDir, "sandboxes", run.SandboxRecordId!);
        Assert.True(Directory.Exists(folder));

        using var stop = await client.PostAsync(new Uri($"{Curl.ApiBase}/sandboxes/{run.SandboxRecordId}/stop", UriKind.Relative), null, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, stop.StatusCode);
        Assert.False(Directory.Exists(folder), "the obstructed sandbox folder is still there");
        Assert.Equal("keep", await File.ReadAllTextAsync(Path.Combine(outside, "keep.txt"), TestContext.Current.CancellationToken));
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>Delivery's limits hold whoever the server runs as: a sparse 2 GB file fails the run naming it, nothing is pushed.</summary>
    [Theory]
    [MemberData(nameof(ServerUsers))]
    public async Task OversizedFile_IsNotDelivered_TheRunNamesIt(string user)
    {
        var (mogplexd, server, client, repoId) = await StartAsync(user, new Dictionary<string, string?> { ["MOGPLEXD_Delivery__MaxFileBytes"] = "1048576" });
        await using var _ = mogplexd;
        using var __ = client;

        var runId = await ExecRuns.StartRunAsync(client, repoId, "truncate -s 2G sparse.bin && echo ok > small.txt", "oversized-" + user);
        var run = await ExecRuns.WaitForStatusAsync(client, runId, RunStatuses.IsTerminal);

        Assert.Equal(RunStatuses.Failed, run.Status);
        Assert.Contains("'sparse.bin'", run.Error, StringComparison.Ordinal);
        Assert.Contains("Delivery:MaxFileBytes", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>
    /// With network <c>model</c> (the default) the egress proxy the server runs for the sandbox lets
    /// an allowed host through and refuses any other, naming it in a <c>log</c> event: whoever the
    /// server runs as (an unprivileged server makes the network namespace in its own user namespace).
    /// </summary>
    [Theory]
    [MemberData(nameof(ServerUsers))]
    public async Task Egress_AnAllowedHostIsReachedAnyOtherIsRefusedAndLogged(string user)
    {
        using var allowed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        allowed.Start();
        var allowedPort = ((System.Net.IPEndPoint)allowed.LocalEndpoint).Port;
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        other.Start();
        var otherPort = ((System.Net.IPEndPoint)other.LocalEndpoint).Port;
        var (mogplexd, server, client, repoId) = await StartAsync(user, new Dictionary<string, string?>
        {
            ["MOGPLEXD_Sandbox__Network"] = "model",
            ["MOGPLEXD_Sandbox__AllowedHosts__0"] = $"127.0.0.1:{allowedPort}",
        });
        await using var _ = mogplexd;
        using var __ = client;
        var script = string.Join('\n',
            "curl -s -o /dev/null -m 5 https://registry.example.invalid/ ; echo registry-tried",
            $"curl -s -o /dev/null -m 3 --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:{otherPort}/ ; echo other-tried",
            $"curl -s -o /dev/null -m 3 --noproxy '' -x \"$HTTP_PROXY\" http://127.0.0.1:{allowedPort}/ ; echo allowed-tried",
            "echo done");

        var accepted = allowed.AcceptSocketAsync(TestContext.Current.CancellationToken);
        var runId = await ExecRuns.StartRunAsync(client, repoId, script, "egress-" + user);
        var run = await ExecRuns.WaitForStatusAsync(client, runId, RunStatuses.IsTerminal);
        var messages = (await ExecRuns.EventsAsync(client, runId)).Select(e => e.Message ?? "").ToList();

        Assert.True(run.Status == RunStatuses.Success, $"{run.Status}: {run.Error}\n{string.Join('\n', messages)}");
        Assert.Contains("done", messages);
        Assert.Contains(messages, m => m.StartsWith("Refused a connection to registry.example.invalid:443", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith($"Refused a connection to 127.0.0.1:{otherPort}", StringComparison.Ordinal));
        Assert.False(other.Pending(), "a host that is not allowed was reached through the egress proxy");
        Assert.True(accepted.IsCompleted, "an allowed host was not reached through the egress proxy");
        Assert.Equal(0, await server.StopAsync());
    }

    public static TheoryData<string, string> UsersAndIsolations()
    {
        var data = new TheoryData<string, string>();
        foreach (var user in Environment.IsPrivilegedProcess ? new[] { "root", "unprivileged" } : ["self"])
        {
            data.Add(user, "none");
            data.Add(user, "bwrap");
        }

        return data;
    }

    /// <summary>
    /// A run that replaces its home by a link to a folder elsewhere on the host (writable by
    /// anyone, so that following it would work) never makes the server create there: the next run
    /// of that sandbox gets a real home, whoever the server runs as, confined or not.
    /// </summary>
    [Theory]
    [MemberData(nameof(UsersAndIsolations))]
    public async Task PlantedHomeLink_IsNeverFollowed_TheNextRunGetsARealHome(string user, string isolation)
    {
        var (mogplexd, server, client, repoId) = await StartAsync(user, new Dictionary<string, string?> { ["MOGPLEXD_Sandbox__Isolation"] = isolation });
        await using var _ = mogplexd;
        using var __ = client;
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;
        File.SetUnixFileMode(outside, (UnixFileMode)0b111_111_111);
        try
        {
            var branch = $"w/home-link-{user}-{isolation}";
            var first = await ExecRuns.WaitTerminalAsync(client, await StartOnBranchAsync(client, repoId, $"cd .. && rm -rf home && ln -s '{outside}' home && echo planted", branch, "plant"));

            // Confined, the home is a mount point in a folder the harness cannot write: the plant
            // itself fails. Unconfined, it succeeds, and the server must not follow it.
            Assert.True(first.Status == (isolation == "none" ? RunStatuses.Success : RunStatuses.Failed), $"{first.Status}: {first.Error}");
            var probe = "if [ -L ../home ]; then echo home=link; elif [ -d ../home ]; then echo home=dir; else echo home=missing; fi";
            var second = await ExecRuns.WaitTerminalAsync(client, await StartOnBranchAsync(client, repoId, probe, branch, "probe"));
            var messages = (await ExecRuns.EventsAsync(client, second.RunId)).Select(e => e.Message ?? "").ToList();

            Assert.True(second.Status == RunStatuses.Success, $"{second.Status}: {second.Error}\n{string.Join('\n', messages)}");
            Assert.Equal(first.SandboxRecordId, second.SandboxRecordId);
            Assert.Contains("home=dir", messages);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    /// <summary>Starts an exec run on <paramref name="branch"/> (made if missing, so two runs share a sandbox).</summary>
    private static async Task<string> StartOnBranchAsync(HttpClient client, string repoId, string script, string branch, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Curl.ApiBase + "/runs", UriKind.Relative))
        {
            Content = JsonContent.Create(
                new StartRunRequest { RepoId = repoId, Prompt = script, Harness = "exec", WorkingBranch = branch, CreateBranch = true },
                MogplexJsonContext.Default.StartRunRequest),
        };
        request.Headers.Add("Idempotency-Key", branch + "/" + key);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(MogplexJsonContext.Default.ApiEnvelopeStartedRun, TestContext.Current.CancellationToken))!.Data.RunId;
    }

    /// <summary>Unconfined runs die with nothing to end them: a restarted server ends every process a killed one left.</summary>
    [Fact]
    public async Task IsolationNone_KillNine_RestartEndsEveryProcessOfTheRunsItOwned()
    {
        var env = new Dictionary<string, string?>(ExecRuns.Unlimited) { ["MOGPLEXD_Sandbox__Isolation"] = "none" };
        var (mogplexd, first, client, repoId) = await StartAsync("self", env);
        await using var _ = mogplexd;
        // A child in a session of its own escapes the run's process group.
        var runId = await ExecRuns.StartRunAsync(client, repoId, "setsid sleep 1234 & sleep 1234 &\necho started\nsleep 1234", "orphans");
        await ExecRuns.WaitForEventsAsync(client, runId, "started");
        client.Dispose();
        Assert.NotEmpty(SleepersUnder(mogplexd.DataDir));

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);
        Assert.NotEmpty(SleepersUnder(mogplexd.DataDir));

        var second = await mogplexd.StartServerAsync(env, "--dev");
        Assert.Empty(SleepersUnder(mogplexd.DataDir));
        Assert.Equal(0, await second.StopAsync());
    }

    /// <summary>Processes whose working directory is below the data folder (the runs' checkouts).</summary>
    private static List<int> SleepersUnder(string dataDir) => Mogplex.Testing.ProcessTable.ProcessesUnder(dataDir);
}
