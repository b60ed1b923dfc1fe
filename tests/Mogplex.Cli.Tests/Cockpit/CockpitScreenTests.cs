using Hex1b;
using Hex1b.Automation;
using Hex1b.Input;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The cockpit's screen, drawn by Hex1b into an in-memory terminal from a JSONL fixture through
/// the stdio transport (the real app, keys and all): golden screens, the same screen for the same
/// events, hostile text inert, and the composer, details and quit keys as a person uses them.
/// Set <c>MOGPLEX_UPDATE_GOLDEN=1</c> to rewrite a golden screen after a deliberate change.
/// </summary>
public sealed class CockpitScreenTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("interactive-approval")]
    public async Task AFixture_DrawsItsGoldenScreen_TheSameEveryTime(string fixture)
    {
        var first = await DrawAsync(fixture);
        var second = await DrawAsync(fixture);

        Assert.Equal(first, second);
        var golden = Path.Combine(SourceFixtures(), fixture + ".screen.txt");
        if (Environment.GetEnvironmentVariable("MOGPLEX_UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(golden, first, Ct);
        }

        Assert.Equal(await File.ReadAllTextAsync(ReducerTests.Fixture(fixture + ".screen.txt"), Ct), first);
    }

    [Fact]
    public async Task TheComposer_RefusesToSendInAReplay_UnknownCommandsAreInline_CtrlOShowsDetails_CtrlCTwiceQuits()
    {
        await using var cockpit = await Cockpit.StartAsync("interactive-approval");
        var auto = cockpit.Automator;

        await auto.TypeAsync("fix the tests", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync(StdioTransport.ReadOnly);

        await auto.TypeAsync("/bogus", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("unknown command /bogus (nothing was sent)");

        Assert.DoesNotContain("    $ rm -rf build", Text(auto), StringComparison.Ordinal);
        await auto.Ctrl().KeyAsync(Hex1bKey.O, Ct);
        await auto.WaitUntilTextAsync("    $ rm -rf build");
        Assert.Contains("    (no output)", Text(auto), StringComparison.Ordinal);

        // Once: the selected run's turn would be interrupted (a replay cannot); twice: quit.
        await auto.Ctrl().KeyAsync(Hex1bKey.C, Ct);
        await auto.WaitUntilTextAsync(StdioTransport.ReadOnly);
        Assert.False(cockpit.Run.IsCompleted);
        await auto.Ctrl().KeyAsync(Hex1bKey.C, Ct);
        await cockpit.Run.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task CtrlC_TwiceButFarApart_DoesNotQuit_SlashQuitDoes()
    {
        await using var cockpit = await Cockpit.StartAsync("interactive-approval");
        var auto = cockpit.Automator;

        await auto.Ctrl().KeyAsync(Hex1bKey.C, Ct);
        await auto.WaitUntilTextAsync(StdioTransport.ReadOnly);
        cockpit.Time.Advance(CockpitApp.DoubleCtrlC + TimeSpan.FromMilliseconds(1));
        await auto.Ctrl().KeyAsync(Hex1bKey.C, Ct);
        await auto.WaitAsync(TimeSpan.FromMilliseconds(200), Ct);
        Assert.False(cockpit.Run.IsCompleted);

        await auto.TypeAsync("/quit", Ct);
        await auto.EnterAsync(Ct);
        await cockpit.Run.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task PageUp_ScrollsBack_CtrlEnd_JumpsToLive()
    {
        await using var cockpit = await Cockpit.StartAsync("interactive-approval");
        var auto = cockpit.Automator;

        await auto.PageUpAsync(Ct);
        await auto.WaitUntilTextAsync("Timeline (scrolled");
        Assert.DoesNotContain("Evil", Text(auto), StringComparison.Ordinal);
        await auto.Ctrl().KeyAsync(Hex1bKey.End, Ct);
        await auto.WaitUntilNoTextAsync("Timeline (scrolled");
        Assert.Contains("Evil", Text(auto), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TabToTheTimelineThenArrowsScrollARow_TheMouseWheelScrollsIt()
    {
        await using var cockpit = await Cockpit.StartAsync("interactive-approval");
        var auto = cockpit.Automator;

        // Composer → rail → timeline.
        await auto.TabAsync(Ct);
        await auto.TabAsync(Ct);
        await auto.UpAsync(Ct);
        await auto.WaitUntilTextAsync("Timeline (scrolled 1 up");
        await auto.DownAsync(Ct);
        await auto.WaitUntilNoTextAsync("Timeline (scrolled");

        await auto.MouseMoveToAsync(60, 8, Ct);
        await auto.ScrollUpAsync(1, Ct);
        await auto.WaitUntilTextAsync("Timeline (scrolled 3 up");
        await auto.ScrollDownAsync(1, Ct);
        await auto.WaitUntilNoTextAsync("Timeline (scrolled");
    }

    [Fact]
    public async Task Search_MarksTheNewestMatch_AgainGoesOlderThenRound_CtrlEndEndsIt()
    {
        await using var cockpit = await Cockpit.StartAsync("interactive-approval");
        var auto = cockpit.Automator;

        // Four rows hold "run" (case ignored): numbered from the newest.
        await auto.TypeAsync("/search RUN", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("» ? [waiting: Ctrl+A] run_command");
        await auto.WaitUntilTextAsync("Timeline (match 1 of 4 for 'RUN'");
        foreach (var number in new[] { 2, 3, 4 })
        {
            await auto.TypeAsync("/search", Ct);
            await auto.EnterAsync(Ct);
            await auto.WaitUntilTextAsync($"Timeline (match {number} of 4 for 'RUN'");
        }

        Assert.Contains("» · Run accepted", Text(auto), StringComparison.Ordinal);
        Assert.Single(Text(auto).Split('\n'), l => l.Contains("» ", StringComparison.Ordinal));
        await auto.TypeAsync("/search", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("search went round to the newest match");
        await auto.WaitUntilTextAsync("Timeline (match 1 of 4 for 'RUN'");

        await auto.Ctrl().KeyAsync(Hex1bKey.End, Ct);
        await auto.WaitUntilNoTextAsync("» ");
        await auto.TypeAsync("/search no such words", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("no row of this run holds 'no such words'");
    }

    private static async Task<string> DrawAsync(string fixture)
    {
        await using var cockpit = await Cockpit.StartAsync(fixture);
        return Text(cockpit.Automator);
    }

    private static string Text(Hex1bTerminalAutomator auto) => string.Join('\n', auto.CreateSnapshot().GetScreenText().Split('\n').Select(l => l.TrimEnd())).TrimEnd() + "\n";

    /// <summary>The fixtures folder in the source tree (golden screens are written there).</summary>
    private static string SourceFixtures([System.Runtime.CompilerServices.CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Fixtures");

    /// <summary>The real cockpit app on a fixture, in a headless Hex1b terminal, drawn to the end of its input.</summary>
    private static class Cockpit
    {
        public static Task<HeadlessCockpit> StartAsync(string fixture) =>
            HeadlessCockpit.StartAsync(new StdioTransport(File.OpenRead(ReducerTests.Fixture(fixture + ".jsonl"))), at: "2026-12-07T10:00:00Z");
    }
}
