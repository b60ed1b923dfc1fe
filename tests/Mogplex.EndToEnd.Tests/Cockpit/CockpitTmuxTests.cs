using System.Diagnostics;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cockpit;

/// <summary>
/// The cockpit as a person uses it (cockpit.md, "Tested as a person uses it"): the published
/// <c>mogplex</c> in a real terminal (tmux: <c>send-keys</c>, <c>capture-pane</c>) against the
/// published <c>mogplexd</c> running the real Codex and Claude Code CLIs on the model stand-in,
/// through the daemon transport. A run started from the composer in permission mode approval is
/// rejected in the drawer and delivers nothing, a follow-up goes into its conversation; a second
/// one is approved in the drawer and its file is delivered; quitting with <c>Ctrl+C</c> twice leaves the
/// runs as they were and the terminal's settings (<c>stty -a</c>) as they were before.
/// </summary>
public sealed class CockpitTmuxTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Harnesses() => new() { "codex", "claude-code" };

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task StartFromTheComposer_ApproveInTheDrawer_RejectAnother_FollowUp_QuitRestoresTheTerminal(string harness)
    {
        var (mogplexd, model, env, token, repoId, source) = await InteractiveRestartTests.SetUpAsync(harness);
        await using var _1 = mogplexd;
        await using var _2 = model;
        var server = await mogplexd.StartServerAsync(env);
        await using var tmux = await Tmux.StartAsync(mogplexd.RootDir, Tmux.Daemon(server, token, repoId));

        using var client = server.CreateClient(token);
        tmux.DescribeRuns(client);
        await tmux.WaitForAsync("daemon: nominal");
        await tmux.TypeAsync($"/harness {harness}");
        await tmux.TypeAsync("/permissions approval");
        await tmux.WaitForAsync("permission mode approval");

        // Reject in the drawer: nothing is delivered; a follow-up goes into the same conversation.
        await tmux.TypeAsync("Try first [[write rejected.txt no]] [[say tried]]");
        await tmux.WaitForAsync("awaiting approval");
        await tmux.WaitForTitleAsync("(1) mogplex");
        await tmux.WaitForAsync("│ streaming, awaiting approval │ mode approval │");
        await tmux.SaveScreenAsync("cockpit-" + harness);
        await tmux.KeysAsync("C-a");
        await tmux.WaitForAsync("Approvals (1)");
        await tmux.KeysAsync("r");
        await tmux.WaitForAsync("rejected: ");
        await tmux.KeysAsync("Escape");
        await tmux.WaitForGoneAsync("Esc close");
        await tmux.WaitForAsync("awaiting input");
        await tmux.WaitForTitleAsync("(1) mogplex");
        await tmux.TypeAsync("And say more [[say more]]");
        await tmux.WaitForAsync("agent: more");
        await tmux.TypeAsync("/finish");
        await tmux.WaitForAsync("No code changes to deliver");
        await tmux.WaitForTitleAsync("mogplex");
        Assert.Null(Delivered(source, "rejected.txt"));

        // Approve in the drawer: the file is delivered. (Its commit message holds the prompt's
        // directives, which Claude Code shows the model as recent history: so this comes last.)
        await tmux.TypeAsync("Ask now [[write asked.txt yes]] [[say asked]]");
        await tmux.WaitForAsync("awaiting approval");
        await tmux.KeysAsync("C-a");
        await tmux.WaitForAsync("Approvals (1)");
        await tmux.KeysAsync("a");
        await tmux.WaitForAsync("awaiting input");
        await tmux.KeysAsync("Escape");
        await tmux.WaitForGoneAsync("Esc close");
        await tmux.TypeAsync("/finish");
        await tmux.WaitForAsync("Run finished; delivered");
        Assert.Equal("yes", Delivered(source, "asked.txt"));

        // Ctrl+C twice quits; the terminal is as it was.
        await tmux.KeysAsync("C-c");
        await tmux.KeysAsync("C-c");
        await tmux.WaitForAsync("EXIT=0");
        await tmux.WaitForAsync("STTY=same");
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>
    /// Two cockpits on one run share one approval queue: the second answers, the first shows the
    /// decision. Quitting the first with the run in flight leaves it running; a cockpit opened
    /// again finds it, waiting for the next message, and finishes it.
    /// </summary>
    [Fact]
    public async Task TwoCockpits_OneAnswersTheOtherShowsIt_QuitWithARunInFlight_ReopenFindsIt()
    {
        var (mogplexd, model, env, token, repoId, source) = await InteractiveRestartTests.SetUpAsync("codex");
        await using var _1 = mogplexd;
        await using var _2 = model;
        var server = await mogplexd.StartServerAsync(env);
        var settings = Tmux.Daemon(server, token, repoId);
        await using (var first = await Tmux.StartAsync(mogplexd.RootDir, settings))
        {
            await first.WaitForAsync("daemon: nominal");
            await first.TypeAsync("/permissions approval");
            await first.TypeAsync("Both of you [[write both.txt ok]] [[say done]]");
            await first.WaitForAsync("awaiting approval");

            await using (var second = await Tmux.StartAsync(mogplexd.RootDir, settings))
            {
                await second.WaitForAsync("awaiting approval");
                await second.KeysAsync("C-a");
                await second.WaitForAsync("Approvals (1)");
                await second.KeysAsync("a");
                await second.WaitForAsync("awaiting input");
            }

            // The first cockpit asked nothing of its own: it shows the decision taken elsewhere.
            await first.WaitForAsync("[approve by user]");
            await first.WaitForAsync("awaiting input");
            await first.KeysAsync("C-c");
            await first.KeysAsync("C-c");
            await first.WaitForAsync("EXIT=0");
            await first.WaitForAsync("STTY=same");
        }

        await using var again = await Tmux.StartAsync(mogplexd.RootDir, settings);
        await again.WaitForAsync("your turn");
        await again.TypeAsync("/finish");
        await again.WaitForAsync("Run finished; delivered");
        Assert.Equal("ok", Delivered(source, "both.txt"));
        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>
    /// The first <c>mogplex</c> in a fresh git repository with nothing configured (no server, no
    /// token, no repo added): the process transport provisions and starts a private mogplexd (the
    /// one beside mogplex) for that repository, a run started from the composer is delivered to a
    /// branch of its own in it; quitting with the run in flight leaves the server serving, the next
    /// cockpit reattaches, and quitting with nothing going stops it.
    /// </summary>
    [Fact]
    public async Task FirstStartInAFreshRepository_ProvisionsAPrivateServer_DeliversToABranch_StopsItWhenNothingIsGoing()
    {
        var root = Directory.CreateTempSubdirectory("mogplex-fresh-").FullName;
        try
        {
            var repo = Path.Combine(root, "project");
            Directory.CreateDirectory(repo);
            RunGit(repo, "init", "-q", "-b", "trunk");
            RunGit(repo, "-c", "user.name=a", "-c", "user.email=a@example.invalid", "commit", "-q", "--allow-empty", "-m", "initial commit");

            // What the private server inherits: the model stand-in for Codex, bubblewrap.
            var serverEnv = new Dictionary<string, string?>(ExecRuns.Unlimited) { ["MOGPLEXD_Sandbox__Isolation"] = "bwrap" };
            await using var model = await RealCodex.ConfigureAsync(serverEnv);
            var settings = serverEnv.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!);

            var home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;
            await using (var first = await Tmux.StartAsync(root, settings, workingDirectory: repo, home: home))
            {
                await first.WaitForAsync("process: nominal");
                await first.TypeAsync("Make it [[write made.txt yes]] [[say made]]");
                await first.WaitForAsync("awaiting input");
                await first.KeysAsync("C-c");
                await first.KeysAsync("C-c");
                await first.WaitForAsync("EXIT=0");
            }

            var data = Directory.GetDirectories(Path.Combine(home, ".mogplex", "local")).Single();
            var pid = int.Parse(await File.ReadAllTextAsync(Path.Combine(data, "mogplexd.pid"), Ct), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Alive(pid), "quitting with a run in flight stopped the private mogplexd");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, "cockpit.token")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));

            await using (var again = await Tmux.StartAsync(root, settings, workingDirectory: repo, home: home))
            {
                await again.WaitForAsync("your turn");
                await again.TypeAsync("/finish");
                await again.WaitForAsync("Run finished; delivered");
                var branch = RunGit(repo, "branch", "--list", "mogplex/*", "--format=%(refname:short)").Trim();
                Assert.StartsWith("mogplex/", branch, StringComparison.Ordinal);
                Assert.Equal("yes", InteractiveRestartTests.Git(repo, "show", branch + ":made.txt"));
                await again.TypeAsync("/quit");
                await again.WaitForAsync("EXIT=0");
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Alive(pid) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, Ct);
            }

            Assert.False(Alive(pid), "the private mogplexd is still running with nothing going");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Every way the cockpit ends puts the terminal back as it was (<c>stty -a</c> before and after
    /// equal) and exits 0 (quitting detaches): <c>/quit</c>, <c>Ctrl+C</c> twice, SIGTERM, SIGHUP.
    /// The replay transport, so no server is needed: the exit paths are the app's, not the transport's.
    /// </summary>
    [Theory]
    [InlineData("quit")]
    [InlineData("ctrl-c-twice")]
    [InlineData("TERM")]
    [InlineData("HUP")]
    public async Task EveryExitPath_RestoresTheTerminal(string how)
    {
        var replay = Path.Combine(Directory.CreateTempSubdirectory("mogplex-replay-").FullName, "run.jsonl");
        await File.WriteAllTextAsync(replay, """{"runId":"run-exit","id":"e1","type":"assistant_message","message":"hello from the replay","createdAt":"2026-12-07T10:00:00Z","seq":1}""" + "\n", Ct);
        await using var tmux = await Tmux.StartAsync(Path.GetDirectoryName(replay)!, new Dictionary<string, string>(), arguments: $"--events=jsonl < '{replay}'");
        await tmux.WaitForAsync("hello from the replay");
        switch (how)
        {
            case "quit":
                await tmux.TypeAsync("/quit");
                break;
            case "ctrl-c-twice":
                await tmux.KeysAsync("C-c");
                await tmux.KeysAsync("C-c");
                break;
            default:
                var pid = await tmux.CockpitPidAsync();
                using (var kill = Process.Start("kill", ["-" + how, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync(Ct);
                }

                break;
        }

        await tmux.WaitForAsync("EXIT=0");
        await tmux.WaitForAsync("STTY=same");
        Directory.Delete(Path.GetDirectoryName(replay)!, recursive: true);
    }

    private static string RunGit(string repo, params string[] args) => InteractiveRestartTests.Git(repo, args);

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The file as delivered to a branch a cockpit run made (<c>mogplex/…</c>), or null when none has it.</summary>
    private static string? Delivered(string repo, string path)
    {
        foreach (var branch in RunGit(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/mogplex/").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                return RunGit(repo, "show", $"{branch}:{path}");
            }
            catch (InvalidOperationException)
            {
                // Not on this branch.
            }
        }

        return null;
    }

    /// <summary>The published <c>mogplex</c> in a tmux session of its own server socket (120×32), with <c>stty -a</c> saved before and compared after.</summary>
    internal sealed class Tmux : IAsyncDisposable
    {
        private readonly string _socket;
        private readonly string _folder;

        private readonly bool _ownsHome;

        private Tmux(string socket, string folder, string home, bool ownsHome) => (_socket, _folder, Home, _ownsHome) = (socket, folder, home, ownsHome);

        /// <summary>The <c>HOME</c> the cockpit ran with (<c>MOGPLEX_HOME</c> is its <c>.mogplex</c>).</summary>
        public string Home { get; }

        public static async Task<Tmux> StartAsync(string root, IReadOnlyDictionary<string, string> env, string? workingDirectory = null, string? home = null, string arguments = "")
        {
            var folder = Directory.CreateTempSubdirectory("mogplex-cockpit-").FullName;
            var ownsHome = home is null;
            home ??= Directory.CreateTempSubdirectory("mogplex-home-").FullName;
            var script = Path.Combine(folder, "cockpit.sh");
            var exports = string.Join('\n', env.Select(kv => $"export {kv.Key}='{kv.Value.Replace("'", "'\\''", StringComparison.Ordinal)}'"));
            await File.WriteAllTextAsync(script, $"""
                #!/bin/bash
                cd '{workingDirectory ?? folder}'
                export HOME='{home}' MOGPLEX_HOME='{home}/.mogplex' TERM=xterm-256color
                unset MOGPLEX_DEV NO_COLOR MOGPLEX_URL MOGPLEX_API_KEY MOGPLEX_TRANSPORT
                {exports}
                stty -a > '{folder}/before'
                (echo $BASHPID > '{folder}/pid'; exec '{MogplexCli.BinaryPath}' {arguments})
                echo "EXIT=$?"
                stty -a > '{folder}/after'
                cmp -s '{folder}/before' '{folder}/after' && echo STTY=same || echo STTY=different
                sleep 600
                """, Ct);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var tmux = new Tmux("mogplex-e2e-" + Guid.NewGuid().ToString("N")[..12], folder, home, ownsHome);
            await tmux.RunAsync("new-session", "-d", "-x", "120", "-y", "32", "-s", "cockpit", script);
            return tmux;
        }

        public async Task TypeAsync(string line)
        {
            await RunAsync("send-keys", "-t", "cockpit", "-l", line);
            await RunAsync("send-keys", "-t", "cockpit", "Enter");
        }

        /// <summary>The pid of the <c>mogplex</c> the session runs.</summary>
        public async Task<int> CockpitPidAsync() => int.Parse((await File.ReadAllTextAsync(Path.Combine(_folder, "pid"), Ct)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        public async Task KeysAsync(string keys) => await RunAsync("send-keys", "-t", "cockpit", keys);

        /// <summary>Types <paramref name="text"/> without Enter.</summary>
        public async Task TypeOnlyAsync(string text) => await RunAsync("send-keys", "-t", "cockpit", "-l", text);

        /// <summary>The pane's title, as the programs in it set it (OSC 0 / OSC 2).</summary>
        public async Task<string> TitleAsync() => (await RunAsync("display-message", "-p", "-t", "cockpit", "#{pane_title}")).Trim();

        /// <summary>With <c>MOGPLEX_SCREENSHOT_DIR</c> set, writes the screen there as <paramref name="name"/>.txt (the README's screenshot comes from here).</summary>
        public async Task SaveScreenAsync(string name)
        {
            if (Environment.GetEnvironmentVariable("MOGPLEX_SCREENSHOT_DIR") is { Length: > 0 } dir)
            {
                var lines = (await ScreenAsync()).Split('\n').Select(l => l.TrimEnd());
                await File.WriteAllTextAsync(Path.Combine(dir, name + ".txt"), string.Join('\n', lines).TrimEnd() + "\n", Ct);
            }
        }

        /// <summary>The screen as it is now.</summary>
        public Task<string> ScreenAsync() => RunAsync("capture-pane", "-p", "-t", "cockpit");

        /// <summary>Waits until the pane's title is <paramref name="title"/>.</summary>
        public async Task WaitForTitleAsync(string title)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            var now = "";
            while (DateTime.UtcNow < deadline)
            {
                now = await TitleAsync();
                if (now == title)
                {
                    return;
                }

                await Task.Delay(100, Ct);
            }

            Assert.Fail($"the title is '{now}', not '{title}'");
        }

        /// <summary>The daemon transport's settings for a cockpit on <paramref name="server"/>'s socket, with <paramref name="token"/>, starting runs on <paramref name="repoId"/>.</summary>
        public static Dictionary<string, string> Daemon(ServerProcess server, string token, string repoId) => new()
        {
            ["MOGPLEX_URL"] = "unix:" + server.SocketPath,
            ["MOGPLEX_API_KEY"] = token,
            ["MOGPLEX_REPO_ID"] = repoId,
        };

        /// <summary>A failure's message lists every run <paramref name="client"/> sees, with its events.</summary>
        public void DescribeRuns(HttpClient client) => Describe = async () =>
        {
            var runs = await client.GetStringAsync(new Uri(Curl.ApiBase + "/runs", UriKind.Relative), Ct);
            var ids = System.Text.Json.JsonDocument.Parse(runs).RootElement.GetProperty("data").GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()!).ToList();
            var described = new List<string>();
            foreach (var id in ids)
            {
                described.Add(id + ":\n" + string.Join("\n", (await ExecRuns.EventsAsync(client, id)).Select(e => $"  {e.Type}: {e.Message} {e.Payload}")));
            }

            return string.Join("\n", described);
        };

        /// <summary>What the server has of the runs, for a failure's message.</summary>
        public Func<Task<string>>? Describe { get; set; }

        public Task WaitForAsync(string text) => WaitAsync(text, shown: true);

        public Task WaitForGoneAsync(string text) => WaitAsync(text, shown: false);

        private async Task WaitAsync(string text, bool shown)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            var screen = "";
            while (DateTime.UtcNow < deadline)
            {
                screen = await RunAsync("capture-pane", "-p", "-t", "cockpit");
                if (screen.Contains(text, StringComparison.Ordinal) == shown)
                {
                    return;
                }

                await Task.Delay(100, Ct);
            }

            Assert.Fail($"'{text}' did not {(shown ? "appear" : "go")}; the screen:\n{screen}\nthe runs:\n{(Describe is null ? "" : await Describe())}");
        }

        public async ValueTask DisposeAsync()
        {
            await RunAsync("kill-server");
            Directory.Delete(_folder, recursive: true);
            if (_ownsHome)
            {
                Directory.Delete(Home, recursive: true);
            }
        }

        private async Task<string> RunAsync(params string[] args)
        {
            var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-L");
            psi.ArgumentList.Add(_socket);
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync(Ct);
            await p.WaitForExitAsync(Ct);
            return output;
        }
    }
}
