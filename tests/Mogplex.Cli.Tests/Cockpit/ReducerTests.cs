using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The cockpit's one reducer, fed from JSONL fixtures as the stdio transport reads them: what a
/// run becomes, that a replay (a reconnect's duplicates) changes nothing, that hostile text is
/// inert before anything draws it, and that bad lines are skipped and counted, never fatal.
/// </summary>
public sealed class ReducerTests
{
    private static readonly HashSet<long> s_none = [];

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Cockpit", "Fixtures", name);

    internal static (CockpitState State, int Skipped) Replay(IEnumerable<string> lines)
    {
        var reader = new JsonlEvents();
        var state = Reducer.ApplyAll(CockpitState.Empty, lines.SelectMany(reader.Read));
        return (state, reader.Skipped);
    }

    [Fact]
    public void AnInteractiveRunWithAPendingApproval_NeedsYou()
    {
        var (state, skipped) = Replay(File.ReadLines(Fixture("interactive-approval.jsonl")));

        Assert.Equal(0, skipped);
        var run = Assert.Single(state.Runs);
        Assert.Equal("01a2513a-aaaa-7000-8000-00000000c0de", state.SelectedRunId);
        Assert.Equal(("streaming", "approval", "codex", "gpt-5.5", "chat/codex"), (run.Status, run.Awaiting, run.Harness, run.Model, run.Branch));
        Assert.Equal(1, run.Turns);
        Assert.Equal((1200L, 80L, 0.0123m), (run.InputTokens, run.OutputTokens, run.CostUsd));
        Assert.Equal(RunGroup.NeedsYou, run.Group);
        Assert.Equal(1, state.NeedsYou);
        Assert.Equal("(1) mogplex", ScreenText.Title(state));
        var approval = Assert.Single(state.Approvals);
        Assert.Equal(("ap-1", "run_command", "rm -rf build", "high"), (approval.ApprovalId, approval.Action, approval.Target, approval.Risk));

        // The tool's output is the tool row's detail; the approval row shows the command.
        var tool = run.Timeline.Single(r => r.Kind == RowKind.Tool);
        Assert.Equal("shell: printf '%s' 1 > one.txt", tool.Text);
        Assert.Equal("exit 0\n(no output)", tool.Detail);
        Assert.Equal("$ rm -rf build", run.Timeline.Single(r => r.Kind == RowKind.Approval).Detail);
    }

    [Fact]
    public void Decided_Finished_TheQueueEmpties_TheRunIsDone()
    {
        var lines = File.ReadLines(Fixture("interactive-approval.jsonl")).Concat(
        [
            """{"id":"e12","type":"approval_decided","message":"rejected by alice","payload":{"approvalId":"ap-1","decision":"reject","by":"user"},"createdAt":"2026-12-07T10:00:04Z","seq":12}""",
            """{"id":"e13","type":"turn_completed","message":"Turn completed","payload":{"turnId":"turn-1","status":"completed"},"createdAt":"2026-12-07T10:00:05Z","seq":13}""",
            """{"id":"e14","type":"user_message","message":"Now finish","payload":{"mode":"queue"},"createdAt":"2026-12-07T10:00:06Z","seq":14}""",
            """{"id":"e15","type":"finished","message":"Run finished","createdAt":"2026-12-07T10:00:07Z","seq":15}""",
        ]);

        var (state, _) = Replay(lines);

        var run = Assert.Single(state.Runs);
        Assert.Empty(state.Approvals);
        Assert.Equal(("success", null, RunGroup.Done), (run.Status, run.Awaiting, run.Group));
        Assert.Equal("reject by user", run.Timeline.Single(r => r.Kind == RowKind.Approval).Decision);
        Assert.Contains(run.Timeline, r => r.Kind == RowKind.User && r.Text == "Now finish");
        Assert.Equal("mogplex", ScreenText.Title(state));
    }

    [Fact]
    public void TheHeader_ShowsTheRunsPermissionMode_FromASnapshotLine()
    {
        var state = CockpitState.Empty;
        foreach (var e in new JsonlEvents().Read("""{"type":"snapshot","run":{"runId":"r1","status":"running","harness":"codex","model":"gpt-5.5","permissionMode":"approval","interactive":true}}"""))
        {
            state = Reducer.Apply(state, e);
        }

        Assert.Contains("│ running │ mode approval │", ScreenText.Header(Reducer.Select(state, "r1"), "stdio"), StringComparison.Ordinal);
    }

    [Fact]
    public void ReplayedEvents_ChangeNothing_TheSameEventsRebuildTheSameScreen()
    {
        var lines = File.ReadLines(Fixture("interactive-approval.jsonl")).ToList();
        var (once, _) = Replay(lines);

        // A reconnect delivers everything again, and some events twice in a row.
        var (again, _) = Replay(lines.Concat(lines).Concat(lines.Skip(3).Take(4)));

        Assert.Equal(Screen(once), Screen(again));
        Assert.Equal(once.Runs[0].Timeline.Count, again.Runs[0].Timeline.Count);
    }

    [Fact]
    public void HostileText_IsInertBeforeItIsDrawn()
    {
        var (state, _) = Replay(File.ReadLines(Fixture("interactive-approval.jsonl")));

        var screen = Screen(state);
        Assert.DoesNotContain('\u001b', screen);
        Assert.DoesNotContain('\u0007', screen);
        Assert.DoesNotContain('\u202e', screen);
        Assert.DoesNotContain('\u200b', screen);
        Assert.Contains("""Evil \x1b[2J\x1b]0;pwned\x07 text with \u202eevil\u202c bidi and zero\u200bwidth""", screen, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("""{"type":"assistant_message"}""")]
    [InlineData("""{"id":"x","type":"log","seq":"seven","createdAt":"2026-12-07T10:00:00Z"}""")]
    [InlineData("""{"type":"snapshot","run":{"status":"streaming"}}""")]
    [InlineData("""{"id":"x","type":"log","seq":1}""")]
    public void ABadLine_IsSkippedAndCounted_TheRestStillReplays(string bad)
    {
        var lines = File.ReadLines(Fixture("interactive-approval.jsonl")).ToList();
        lines.Insert(5, bad);

        var (state, skipped) = Replay(lines);

        Assert.Equal(1, skipped);
        Assert.Equal(Screen(Replay(File.ReadLines(Fixture("interactive-approval.jsonl"))).State), Screen(state));
    }

    [Fact]
    public void AnOversizedLine_IsSkipped()
    {
        var reader = new JsonlEvents();
        var huge = "{\"id\":\"x\",\"type\":\"log\",\"message\":\"" + new string('a', JsonlEvents.MaxLineChars) + "\",\"seq\":1,\"createdAt\":\"2026-12-07T10:00:00Z\"}";

        Assert.Empty(reader.Read(huge));
        Assert.Equal(1, reader.Skipped);
    }

    [Fact]
    public void EventsForSeveralRuns_GoToTheirOwnRuns_NewestFirst_GroupedInTheRail()
    {
        string Event(string run, long seq, string type, string payload = "null") =>
            $$"""{"runId":"{{run}}","id":"{{run}}-{{seq}}","type":"{{type}}","message":"m","payload":{{payload}},"createdAt":"2026-12-07T10:00:00Z","seq":{{seq}}}""";

        var (state, _) = Replay(
        [
            Event("run-a", 1, "started"),
            Event("run-b", 1, "started"),
            Event("run-a", 2, "finished"),
            Event("run-b", 2, "approval_requested", """{"approvalId":"q","action":"run_command","target":"ls","risk":"low"}"""),
            Event("run-c", 1, "started"),
        ]);

        Assert.Equal(["run-c", "run-b", "run-a"], state.Runs.Select(r => r.Id));
        Assert.Equal("run-a", state.SelectedRunId);
        Assert.Equal(
            ["! run-b - approval?", "~ run-c - pending", "  run-a - success"],
            ScreenText.Rail(state).Select(l => l.Text));
        Assert.Equal("Runs: 1 need you, 1 working, 1 done", ScreenText.RailTitle(state));
    }

    [Fact]
    public void ARunIdCarryingEscapesAndBidi_IsOneRun_ShownInert()
    {
        // The id is kept as shown (escapes visible): every later event and the status line must
        // find that run again, not start a new one per line.
        const string hostile = "run-\\u001b[2J\\u202eevil"; // JSON escapes: the id holds ESC and U+202E
        string Event(long seq, string type) =>
            $$"""{"runId":"{{hostile}}","id":"e-{{seq}}","type":"{{type}}","message":"m{{seq}}","createdAt":"2026-12-07T10:00:00Z","seq":{{seq}}}""";

        string Approval(long seq) =>
            $$"""{"runId":"{{hostile}}","id":"e-{{seq}}","type":"approval_requested","message":"may I?","payload":{"approvalId":"ap-1","action":"run_command","target":"ls","risk":"low"},"createdAt":"2026-12-07T10:00:00Z","seq":{{seq}}}""";

        var (waiting, _) = Replay([Event(1, "started"), Event(2, "assistant_message"), Event(3, "assistant_message"), Approval(4)]);

        var run = Assert.Single(waiting.Runs);
        Assert.Equal("""run-\x1b[2J\u202eevil""", run.Id);
        Assert.Equal(4, run.LastSeq);
        Assert.Equal(run.Id, Assert.Single(waiting.Approvals).RunId);
        Assert.Equal(1, waiting.NeedsYou);
        var drawn = string.Join('\n', ScreenText.Rail(waiting).Select(l => l.Text).Concat(ScreenText.ApprovalLines(waiting)));
        Assert.DoesNotContain('\u001b', drawn);
        Assert.DoesNotContain('\u202e', drawn);
        Assert.Contains("run 202eevil  run_command: ls", drawn, StringComparison.Ordinal);

        var (done, _) = Replay([Event(1, "started"), Approval(2), Event(3, "finished"), $$"""{"runId":"{{hostile}}","status":"success"}"""]);
        Assert.Equal("success", Assert.Single(done.Runs).Status);
        Assert.Empty(done.Approvals);
    }

    [Fact]
    public void TheTimeline_BuildsOnlyWhatFits_From100000Events()
    {
        var lines = Enumerable.Range(1, 100_000).Select(i => $$"""{"id":"e{{i}}","type":"assistant_message","message":"line {{i}}","createdAt":"2026-12-07T10:00:00Z","seq":{{i}}}""");
        var (state, _) = Replay(lines);

        var visible = ScreenText.TimelineLines(state.Selected, height: 20, scroll: 0, s_none);
        Assert.Equal(20, visible.Count);
        Assert.Equal("agent: line 100000", visible[^1].Text);
        Assert.Equal("agent: line 50000", ScreenText.TimelineLines(state.Selected, height: 20, scroll: 50_000, s_none)[^1].Text);
    }

    private static string Screen(CockpitState state) =>
        ScreenText.Header(state, "stdio") + "\n"
        + string.Join('\n', ScreenText.Rail(state).Select(l => l.Text)) + "\n"
        + string.Join('\n', ScreenText.TimelineLines(state.Selected, 1000, 0, state.Selected?.Timeline.Select(r => r.Seq).ToHashSet() ?? []).Select(l => l.Text)) + "\n"
        + ScreenText.Alerts(state);
}
