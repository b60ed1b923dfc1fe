using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Tmux = Mogplex.EndToEnd.Tests.Cockpit.CockpitTmuxTests.Tmux;

namespace Mogplex.EndToEnd.Tests.Cockpit;

/// <summary>
/// The cockpit's files and the terminal around its screen, as a person meets them in a real
/// terminal (tmux) against the published <c>mogplexd</c>: signing in with a token that is never
/// drawn and is stored 0600 (a refused one is not), <c>/logout</c> and <c>--logout</c>; the
/// permissions files (global mode, the repository's rules) reaching the server with a run started
/// from the composer, so that a real Codex run's command is allowed by the repository's rule; and
/// an event full of escape sequences and bidi characters drawn inert, the window title left alone.
/// </summary>
public sealed class CockpitFilesTmuxTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AHostileEvent_IsDrawnInert_TheTitleStaysTheCockpits()
    {
        var folder = Directory.CreateTempSubdirectory("mogplex-hostile-").FullName;
        try
        {
            var replay = Path.Combine(folder, "run.jsonl");
            string[] hostile = ["Evil \u001b[2J\u001b]2;pwned\u0007 \u001b[31mred\u001b[0m", "\u202eevil\u202c zero\u200bwidth", "csi \u009b6n end"];
            var lines = hostile.Select((message, i) => JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["runId"] = "run-hostile",
                ["id"] = "e" + i,
                ["type"] = "assistant_message",
                ["message"] = message,
                ["createdAt"] = "2026-12-07T10:00:00Z",
                ["seq"] = i + 1,
            }));
            await File.WriteAllTextAsync(replay, string.Join('\n', lines) + "\n", Ct);
            await using var tmux = await Tmux.StartAsync(folder, new Dictionary<string, string>(), arguments: $"--events=jsonl < '{replay}'");

            await tmux.WaitForAsync("Evil \\x1b[2J\\x1b]2;pwned\\x07");
            var screen = await tmux.ScreenAsync();

            Assert.Contains("\\u202eevil\\u202c", screen, StringComparison.Ordinal);
            Assert.Contains("zero\\u200bwidth", screen, StringComparison.Ordinal);
            Assert.Contains("\\x1b[31mred", screen, StringComparison.Ordinal);
            Assert.Contains("csi \\x9b6n end", screen, StringComparison.Ordinal);
            Assert.Equal("mogplex", await tmux.TitleAsync());
            await tmux.TypeAsync("/quit");
            await tmux.WaitForAsync("EXIT=0");
            await tmux.WaitForAsync("STTY=same");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// A cockpit on a running mogplexd (<c>MOGPLEX_DAEMON_SOCKET</c>) with no token opens on the
    /// sign-in line: what is typed is never on screen; a refused token is not stored; an accepted
    /// one is stored in <c>auth.json</c> (0600) and the runs appear. <c>/logout</c> removes it;
    /// <c>--logout</c> removes it before the cockpit starts.
    /// </summary>
    [Fact]
    public async Task SignIn_TheTokenIsNeverOnScreen_StoredOnlyWhenAccepted_LogoutAndDashDashLogoutRemoveIt()
    {
        var mogplexd = new MogplexdProcess();
        await using var _ = mogplexd;
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "signin");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        using (var client = server.CreateClient(token))
        {
            var runId = await ExecRuns.StartRunAsync(client, repoId, "echo hello-from-exec", "signin-run");
            await ExecRuns.WaitTerminalAsync(client, runId);
        }

        var home = Directory.CreateTempSubdirectory("mogplex-home-").FullName;
        var auth = Path.Combine(home, ".mogplex", "auth.json");
        var settings = new Dictionary<string, string> { ["MOGPLEX_DAEMON_SOCKET"] = server.SocketPath };
        try
        {
            await using (var tmux = await Tmux.StartAsync(mogplexd.RootDir, settings, home: home))
            {
                await tmux.WaitForAsync("Token: paste or type it · Enter sign in · Esc cancel · server unix:");
                await tmux.TypeOnlyAsync("mgx_not-a-real-token-0000");
                await tmux.WaitForAsync("25 characters");
                Assert.DoesNotContain("not-a-real-token", await tmux.ScreenAsync(), StringComparison.Ordinal);
                await tmux.KeysAsync("Enter");
                await tmux.WaitForAsync("the server refused this token");
                Assert.False(File.Exists(auth));

                await tmux.TypeOnlyAsync(token);
                Assert.DoesNotContain(token, await tmux.ScreenAsync(), StringComparison.Ordinal);
                await tmux.KeysAsync("Enter");
                await tmux.WaitForAsync("signed in to unix:");
                await tmux.WaitForAsync("hello-from-exec");
                Assert.DoesNotContain(token, await tmux.ScreenAsync(), StringComparison.Ordinal);
                using (var stored = JsonDocument.Parse(await File.ReadAllTextAsync(auth, Ct)))
                {
                    Assert.Equal(token, stored.RootElement.GetProperty("mogplex").GetProperty("token").GetString());
                }

                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(auth));

                await tmux.TypeAsync("/logout");
                await tmux.WaitForAsync("signed out: the token was removed");
                Assert.False(File.Exists(auth));
                await tmux.KeysAsync("Escape");
                await tmux.WaitForAsync("sign-in cancelled");
                await tmux.TypeAsync("/quit");
                await tmux.WaitForAsync("EXIT=0");
            }

            // Stored again, then --logout forgets it before the cockpit starts: the sign-in line.
            Directory.CreateDirectory(Path.GetDirectoryName(auth)!);
            await File.WriteAllTextAsync(auth, JsonSerializer.Serialize(new Dictionary<string, object> { ["mogplex"] = new Dictionary<string, string> { ["token"] = token } }), Ct);
            await using (var tmux = await Tmux.StartAsync(mogplexd.RootDir, settings, home: home, arguments: "--logout"))
            {
                await tmux.WaitForAsync("Token: paste or type it · Enter sign in · Esc cancel · server unix:");
                Assert.False(File.Exists(auth));
                await tmux.KeysAsync("Escape");
                await tmux.WaitForAsync("sign-in cancelled");
                await tmux.TypeAsync("/quit");
                await tmux.WaitForAsync("EXIT=0");
                await tmux.WaitForAsync("STTY=same");
            }

            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>
    /// The global file sets permission mode approval, the repository's file allows <c>bash:*</c>:
    /// a real Codex run started from the composer (in that repository) asks nothing of the person,
    /// the server allows the command by the repository's rule, and the file is delivered.
    /// </summary>
    [Fact]
    public async Task PermissionsFiles_GlobalModeAndTheRepositorysRules_ReachTheServerWithTheStart()
    {
        var (mogplexd, model, env, token, repoId, source) = await InteractiveRestartTests.SetUpAsync("codex");
        await using var _1 = mogplexd;
        await using var _2 = model;
        var server = await mogplexd.StartServerAsync(env);
        var home = Directory.CreateTempSubdirectory("mogplex-home-").FullName;
        try
        {
            // A person's checkout of the repository: the cockpit is started there.
            var checkout = Path.Combine(home, "checkout");
            InteractiveRestartTests.Git(home, "clone", "-q", source, checkout);
            var mogplexHome = Path.Combine(home, ".mogplex");
            var project = Path.Combine(mogplexHome, "projects", Slug(checkout));
            Directory.CreateDirectory(project);
            await WriteOwnerOnlyAsync(Path.Combine(mogplexHome, "permissions.json"), """{"version": 1, "mode": "approval"}""");
            await WriteOwnerOnlyAsync(Path.Combine(project, "permissions.json"), """{"version": 1, "rules": {"allow": ["bash:*"]}}""");
            var settings = Tmux.Daemon(server, token, repoId);

            await using var tmux = await Tmux.StartAsync(mogplexd.RootDir, settings, workingDirectory: checkout, home: home);
            await tmux.WaitForAsync("daemon: nominal");
            await tmux.TypeAsync("/permissions");
            await tmux.WaitForAsync("mode approval (global:");
            await tmux.TypeAsync("Allowed by rule [[write ruled.txt yes]] [[say ruled]]");
            await tmux.WaitForAsync("awaiting input");
            await tmux.TypeAsync("/finish");
            await tmux.WaitForAsync("Run finished; delivered");

            using var client = server.CreateClient(token);
            var runs = JsonDocument.Parse(await client.GetStringAsync(new Uri(Curl.ApiBase + "/runs", UriKind.Relative), Ct));
            var runId = runs.RootElement.GetProperty("data").GetProperty("runs").EnumerateArray().Single().GetProperty("runId").GetString()!;
            var decided = (await ExecRuns.EventsAsync(client, runId)).Where(e => e.Type == "approval_decided").ToList();
            Assert.NotEmpty(decided);
            Assert.All(decided, e =>
            {
                Assert.Equal("rule", e.Payload!.Value.GetProperty("by").GetString());
                Assert.Equal("project", e.Payload.Value.GetProperty("ruleSource").GetString());
            });
            var branch = InteractiveRestartTests.Git(source, "for-each-ref", "--format=%(refname:short)", "refs/heads/mogplex/").Trim();
            Assert.Equal("yes", InteractiveRestartTests.Git(source, "show", branch + ":ruled.txt"));
            await tmux.TypeAsync("/quit");
            await tmux.WaitForAsync("EXIT=0");
            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>The cockpit's folder name for a repository (docs/decisions.md: the folder name and the first 12 hex digits of the SHA-256 of its path).</summary>
    private static string Slug(string repo)
    {
        var top = InteractiveRestartTests.Git(repo, "rev-parse", "--show-toplevel").Trim();
        var name = new string([.. Path.GetFileName(top).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
        return $"{name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(top)))[..12]}";
    }

    private static async Task WriteOwnerOnlyAsync(string path, string content)
    {
        await File.WriteAllTextAsync(path, content, Ct);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
