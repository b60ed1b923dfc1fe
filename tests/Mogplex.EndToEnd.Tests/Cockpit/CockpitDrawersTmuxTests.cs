using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using static Mogplex.EndToEnd.Tests.Cockpit.CockpitTmuxTests;

namespace Mogplex.EndToEnd.Tests.Cockpit;

/// <summary>
/// The drawers as a person uses them, in a real terminal (tmux) against the published
/// <c>mogplexd</c> running the real Codex CLI on the model stand-in: the harness picked in the
/// picker, a run started from the composer, its live diff in the diff drawer (hunk keys), its cost,
/// and an export whose JSONL, replayed by a second cockpit, shows the same run.
/// </summary>
public sealed class CockpitDrawersTmuxTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PickTheHarness_StartARun_ItsDiffInTheDrawer_ExportItAndReplayTheExport()
    {
        var (mogplexd, model, env, token, repoId, _) = await InteractiveRestartTests.SetUpAsync("codex");
        await using var _1 = mogplexd;
        await using var _2 = model;
        var server = await mogplexd.StartServerAsync(env);
        await using var tmux = await Tmux.StartAsync(mogplexd.RootDir, Tmux.Daemon(server, token, repoId));
        using var client = server.CreateClient(token);
        tmux.DescribeRuns(client);
        await tmux.WaitForAsync("daemon: nominal");

        // The picker: typed filter, Enter takes it.
        await tmux.TypeAsync("/harness");
        await tmux.WaitForAsync("Harness for runs started here");
        await tmux.KeysAsync("cod");
        await tmux.WaitForAsync("▶ codex");
        await tmux.KeysAsync("Enter");
        await tmux.WaitForAsync("runs started here from now on: harness codex");

        await tmux.TypeAsync("Make it [[write drawer.txt yes]] [[say made]]");
        await tmux.WaitForAsync("awaiting input");
        await tmux.WaitForAsync("agent: made");

        // The diff drawer: the sandbox's change, live, from GET /runs/{id}/diff.
        await tmux.TypeAsync("/diff");
        await tmux.WaitForAsync("1 file, 1 hunk");
        await tmux.WaitForAsync("+yes");
        await tmux.WaitForAsync("added        +1 -0 drawer.txt");
        await tmux.KeysAsync("n");
        await tmux.WaitForAsync("(at 1/1)");
        await tmux.KeysAsync("Escape");
        await tmux.WaitForGoneAsync("n/p next/previous hunk");

        // The cost drawer: the turn's usage as the stand-in reported it.
        await tmux.TypeAsync("/cost");
        await tmux.WaitForAsync("  turn 1 ");
        await tmux.KeysAsync("Escape");
        await tmux.WaitForGoneAsync("all runs here");

        // The export drawer: j/l/m write a file, whose path is shown.
        await tmux.TypeAsync("/export");
        await tmux.WaitForAsync("j JSON · l JSONL · m Markdown · Esc close");
        await tmux.KeysAsync("l");
        await tmux.WaitForAsync("written: ");
        var exports = Path.Combine(tmux.Home, ".mogplex", "exports");
        var file = Assert.Single(Directory.GetFiles(exports));
        Assert.EndsWith(".jsonl", file, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(exports));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        await tmux.KeysAsync("Escape");
        await tmux.WaitForGoneAsync("j JSON · l JSONL");
        await tmux.TypeAsync("/finish");
        await tmux.WaitForAsync("Run finished; delivered");

        // The export replays: the same run, read-only, in another cockpit.
        await using (var replay = await Tmux.StartAsync(Path.GetDirectoryName(file)!, new Dictionary<string, string>(), arguments: $"--events=jsonl < '{file}'"))
        {
            await replay.WaitForAsync("end of the input");
            await replay.WaitForAsync("agent: made");
            await replay.WaitForAsync("your turn");
            await replay.TypeAsync("/diff");
            await replay.WaitForAsync("unavailable: the stdio transport has no server to ask");
        }

        Assert.Equal(0, await server.StopAsync());
    }
}
