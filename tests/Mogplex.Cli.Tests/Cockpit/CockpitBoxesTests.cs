using Hex1b;
using Hex1b.Automation;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The rail's and the timeline's boxes are lines of text, not Hex1b's <c>Border</c> (which writes
/// a space into every cell inside it: a full-screen first frame). They must look exactly like the
/// border did: the top line is compared with a real <c>Border</c> drawn by Hex1b, for titles
/// short and long, odd and even, wide and hostile.
/// </summary>
public sealed class CockpitBoxesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Timeline", 76)]
    [InlineData("Timeline", 77)]
    [InlineData("Runs: 1 need you, 0 working, 0 done", 32)]
    [InlineData("Runs: 0 need you, 12 working, 3 done", 33)]
    [InlineData("", 20)]
    [InlineData("ab", 4)]
    [InlineData("abc", 5)]
    [InlineData("abcdef", 7)]
    [InlineData("x", 3)]
    [InlineData("漢字のタイトルです", 12)]
    [InlineData("漢字のタイトルです", 13)]
    [InlineData("wide 漢字 and emoji 🚀 in a title", 24)]
    [InlineData("Timeline (match 1 of 1 for '\\u202eevil\\x1b[2J' · /search: older · Ctrl+End: live)", 60)]
    public async Task TheTopLine_IsTheOneHex1bsBorderDraws(string title, int width)
    {
        var (before, shown, after) = CockpitScreen.TopLine(title, width);

        Assert.Equal(await BorderTopLineAsync(title, width), before + shown + after);
    }

    [Fact]
    public async Task AHostileSearchTerm_IsDrawnInertInTheTimelinesTopLine_AndTheBoxesStayWhole()
    {
        await using var cockpit = await HeadlessCockpit.StartAsync(
            new StdioTransport(File.OpenRead(ReducerTests.Fixture("interactive-approval.jsonl"))), at: "2026-12-07T10:00:00Z");
        var auto = cockpit.Automator;

        // A right-to-left override typed into the composer: the search (and the title) show it as text.
        await auto.TypeAsync("/search \u202eevil", Ct);
        await auto.EnterAsync(Ct);
        await auto.WaitUntilTextAsync("for '\\u202eevil'");

        var lines = cockpit.Text.Split('\n');
        Assert.DoesNotContain(lines, l => l.Contains('\u202e', StringComparison.Ordinal));
        var top = lines[1];
        Assert.StartsWith("┌─Runs:", top, StringComparison.Ordinal);
        Assert.EndsWith("┐", top, StringComparison.Ordinal);
        Assert.Equal(HeadlessCockpit.Width, top.Length);
        var (before, title, after) = CockpitScreen.TopLine(TitleIn(top), HeadlessCockpit.Width - CockpitScreen.RailWidth);
        Assert.Equal(top[..CockpitScreen.RailWidth] + before + title + after, top);

        // Every row between the top and bottom lines has its four border columns where they belong.
        var bottom = Array.FindIndex(lines, l => l.StartsWith('└'));
        Assert.True(bottom > 2, cockpit.Text);
        foreach (var row in lines[2..bottom])
        {
            var padded = row.PadRight(HeadlessCockpit.Width);
            Assert.Equal('│', padded[0]);
            Assert.Equal("││", padded[(CockpitScreen.RailWidth - 1)..(CockpitScreen.RailWidth + 1)]);
            Assert.Equal('│', padded[HeadlessCockpit.Width - 1]);
        }
    }

    /// <summary>The title as the timeline's top line shows it (between its dashes).</summary>
    private static string TitleIn(string top)
    {
        var right = top[CockpitScreen.RailWidth..].Trim('┌', '┐');
        return right.Trim('─');
    }

    /// <summary>The top line of a real Hex1b <c>Border</c> of <paramref name="width"/> columns with <paramref name="title"/>.</summary>
    private static async Task<string> BorderTopLineAsync(string title, int width)
    {
        await using var terminal = Hex1bTerminal.CreateSlimBuilder().WithHeadless().WithDimensions(width, 4)
            .WithHex1bApp(ctx => ctx.Border(ctx.Text("")).Title(title)).Build();
        using var stop = new CancellationTokenSource();
        var run = terminal.RunAsync(stop.Token);
        var auto = new Hex1bTerminalAutomator(terminal, TimeSpan.FromSeconds(10));
        await auto.WaitUntilTextAsync("┘");
        var line = auto.CreateSnapshot().GetScreenText().Split('\n')[0].TrimEnd();
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        return line;
    }
}
