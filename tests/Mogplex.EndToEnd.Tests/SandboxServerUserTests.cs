using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// The sandbox's core boundaries with the published server run as root (as CI runs it) and as an
/// unprivileged user (uid 65534 when the test is root): no capability, a uid that is not root, host
/// files and loopback services out of reach, a nested repository's programs never run as the
/// server. The in-process attack suite (Mogplex.Server.Tests, SandboxBoundaryTests) covers every
/// vector as the test's own user.
/// </summary>
public sealed class SandboxServerUserTests
{
    private const int Unprivileged = 65534;

    public static TheoryData<string> ServerUsers() => Environment.IsPrivilegedProcess ? new() { "root", "unprivileged" } : new() { "self" };

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

        if (user == "unprivileged")
        {
            mogplexd.RunAsUid = Unprivileged;
            mogplexd.GiveToRunAsUser();
            serverEnv["HOME"] = mogplexd.RootDir;
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
