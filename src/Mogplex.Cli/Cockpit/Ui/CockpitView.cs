using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// What the screen draws: the reduced <see cref="CockpitState"/> plus what belongs to this screen
/// only (the timeline's scroll, the expanded rows, a one-line notice, the transport's name).
/// Changed under the app's lock; the screen reads a consistent copy.
/// </summary>
public sealed record CockpitView(string Transport)
{
    public CockpitState State { get; init; } = CockpitState.Empty;

    /// <summary>Rows up from the live end (0: live).</summary>
    public int Scroll { get; init; }

    /// <summary>What <c>/search</c> looks for in the selected run's timeline, and its last hit (marked, scrolled to); null: no search.</summary>
    public string? SearchTerm { get; init; }

    public TimelineSearch.Hit? SearchHit { get; init; }

    /// <summary>Every row's detail shown (tool output, what an approval is about).</summary>
    public bool ExpandAll { get; init; }

    /// <summary>The drawer that is open, if one is (it takes the timeline's place; <c>Esc</c> closes it).</summary>
    public CockpitDrawer? Drawer { get; init; }

    /// <summary>The approvals drawer is open (<c>a</c>, <c>r</c>, <c>A</c>, <c>Esc</c>).</summary>
    public bool ApprovalsOpen => Drawer is CockpitDrawer.Approvals;

    /// <summary>The model runs started here get (<c>/model</c>); null: the server's default.</summary>
    public string? Model { get; init; }

    /// <summary>The permission mode runs started here get when the cockpit has no permissions files (<c>/permissions approval|auto</c>); null: the server's default.</summary>
    public string? PermissionMode { get; init; }

    /// <summary>The permissions files as last read (at start, at each run start, on <c>/permissions</c>).</summary>
    public ResolvedPermissions Permissions { get; init; } = ResolvedPermissions.None;

    /// <summary>The harness runs started here get (<c>/harness codex|claude-code</c>); null: the server's default.</summary>
    public string? Harness { get; init; }

    /// <summary>The sign-in line replaces the composer (<c>/login</c>, or a daemon with no token): what is typed there is never drawn.</summary>
    public bool LoginOpen { get; init; }

    /// <summary>How many characters of the token were typed (drawn as dots).</summary>
    public int LoginLength { get; init; }

    /// <summary>The server the sign-in is for.</summary>
    public string? LoginServer { get; init; }

    /// <summary>The answer to the last thing typed (an unknown command, a refusal, help).</summary>
    public string? Notice { get; init; }

    /// <summary>The screen's width in columns (the rail is <see cref="CockpitScreen.RailWidth"/> of them; the timeline or drawer takes the rest).</summary>
    public int Width { get; init; } = 80;

    /// <summary>The screen's height in lines (the timeline takes what the rest leaves).</summary>
    public int Height { get; init; } = 24;

    /// <summary>The composer's lines (Alt+Enter adds one; at most <see cref="MaxComposerLines"/> are shown).</summary>
    public int ComposerLines { get; init; } = 1;

    /// <summary>What the composer's text means so far (a slash command being typed); shown in place of the notice.</summary>
    public string? Hint { get; init; }

    public const int MaxComposerLines = 6;

    public const int ChromeLines = 7;

    public int TimelineHeight => Math.Max(1, Height - ChromeLines - (ComposerLines - 1));
}
