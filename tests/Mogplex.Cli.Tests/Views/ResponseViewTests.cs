using System.Text.Json;
using Mogplex.Cli.Terminal;
using Mogplex.Client.Views;

namespace Mogplex.Cli.Tests.Views;

/// <summary>
/// The client's typed views read the JSON the server sent, lazily and tolerantly: a missing field
/// or one of another type reads as null (false for flags, nothing for lists), and the raw JSON,
/// unknown fields included, stays available for <c>--json</c>.
/// </summary>
public sealed class ResponseViewTests
{
    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public void RunView_EveryField_ReadsItsValue()
    {
        var run = new RunView(Parse("""
            {"runId":"r1","status":"streaming","harness":"codex","repoId":"repo","sandboxId":"sb",
             "branch":{"base":"main","working":"fix/a","createBranch":true},
             "eventsUrl":"/e","cancelUrl":"/c","createdAt":"t0","updatedAt":"t1","error":"boom","commit":"abc",
             "permissionMode":"approval","awaiting":"approval","pendingApprovals":2,"interactive":true,"turns":3,"replayed":true,
             "queue":{"position":2,"waitingFor":"branch"}}
            """));

        Assert.Equal(
            ("r1", "streaming", "codex", "repo", "sb", "/e", "/c", "t0", "t1", "boom", "abc", "approval", "approval"),
            (run.Id, run.Status, run.Harness, run.RepoId, run.SandboxId, run.EventsUrl, run.CancelUrl, run.CreatedAt, run.UpdatedAt, run.Error, run.Commit, run.PermissionMode, run.Awaiting));
        Assert.Equal((2, 3, true, true), (run.PendingApprovals, run.Turns, run.Interactive, run.Replayed));
        Assert.Equal(("main", "fix/a", true), (run.Branch.Base, run.Branch.Working, run.Branch.CreateBranch));
        Assert.Equal((true, 2, "branch"), (run.Queue.IsWaiting, run.Queue.Position, run.Queue.WaitingFor));
    }

    [Fact]
    public void RunView_MissingFields_ReadAsNullOrFalse()
    {
        var run = new RunView(Parse("{}"));

        Assert.Null(run.Id);
        Assert.Null(run.Status);
        Assert.Null(run.Error);
        Assert.Null(run.PendingApprovals);
        Assert.Null(run.Turns);
        Assert.False(run.Queue.IsWaiting);
        Assert.Null(run.Queue.Position);
        Assert.False(run.Interactive);
        Assert.False(run.Replayed);
        Assert.Equal((null, null, false), (run.Branch.Base, run.Branch.Working, run.Branch.CreateBranch));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"a run\"")]
    [InlineData("null")]
    public void RunView_NotAnObject_ReadsAsNothing(string json)
    {
        var run = new RunView(Parse(json));

        Assert.Null(run.Id);
        Assert.Null(run.Branch.Working);
        Assert.False(run.Replayed);
    }

    [Fact]
    public void RunView_WrongTypes_ReadAsTodaysFallbacks()
    {
        // Numbers and booleans in a text field read as their JSON text; objects, arrays and null as null.
        var run = new RunView(Parse("""
            {"runId":42,"status":true,"harness":{"name":"codex"},"repoId":["r"],"error":null,
             "branch":"main","pendingApprovals":"2","turns":1.5,"interactive":"true","replayed":1}
            """));

        Assert.Equal(("42", "true"), (run.Id, run.Status));
        Assert.Null(run.Harness);
        Assert.Null(run.RepoId);
        Assert.Null(run.Error);
        Assert.Null(run.Branch.Working);
        Assert.Null(run.PendingApprovals);
        Assert.Null(run.Turns);
        Assert.False(run.Interactive);
        Assert.False(run.Replayed);
    }

    [Fact]
    public void Views_UnknownFields_AreKeptInTheRawJson()
    {
        const string Sent = """{"runId":"r1","futureField":{"nested":[1,"two",null]},"status":"pending","x-extra":"é<&>"}""";
        var run = new RunView(Parse(Sent));
        var page = new RunEventsPageView(Parse($$"""{"run":{{Sent}},"events":[{"id":"e1","newThing":7}]}"""));

        Assert.Equal(Sent, JsonOutput.Serialize(run.Json));
        Assert.Equal(Sent, JsonOutput.Serialize(page.Run.Json));
        Assert.Equal("""{"id":"e1","newThing":7}""", JsonOutput.Serialize(Assert.Single(page.Events).Json));
    }

    [Fact]
    public void ListViews_FieldMissingOrNotAnArray_HaveNoItems()
    {
        Assert.Empty(new RunListView(Parse("{}")).Runs);
        Assert.Empty(new RunListView(Parse("""{"runs":{"runId":"r1"}}""")).Runs);
        Assert.Empty(new RunEventsPageView(Parse("""{"events":null}""")).Events);
        Assert.Empty(new RepoListView(Parse("""{"repos":"none"}""")).Repos);
        Assert.Empty(new SandboxListView(Parse("[]")).Sandboxes);
        Assert.Null(new RunListView(Parse("""{"runs":[],"nextCursor":null}""")).NextCursor);
    }

    [Fact]
    public void ListViews_Items_ReadTheirFields()
    {
        var runs = new RunListView(Parse("""{"runs":[{"runId":"r2"},{"runId":"r1"}],"nextCursor":"c"}"""));
        var repo = Assert.Single(new RepoListView(Parse("""{"repos":[{"id":"p","full_name":"acme/api","default_branch":"main","root_directory":"apps"}]}""")).Repos);
        var sandbox = Assert.Single(new SandboxListView(Parse("""{"sandboxes":[{"id":"s","status":"running","repo_id":"p","working_branch":"w","last_active_at":"t"}]}""")).Sandboxes);

        Assert.Equal(["r2", "r1"], runs.Runs.Select(r => r.Id));
        Assert.Equal("c", runs.NextCursor);
        Assert.Equal(("p", "acme/api", "main", "apps"), (repo.Id, repo.FullName, repo.DefaultBranch, repo.RootDirectory));
        Assert.Equal(("s", "running", "p", "w", "t"), (sandbox.Id, sandbox.Status, sandbox.RepoId, sandbox.WorkingBranch, sandbox.LastActiveAt));
    }

    [Fact]
    public void AnswerViews_ReadTheirFields_AndFallBack()
    {
        var cancel = new CancelResultView(Parse("""{"run":{"runId":"r1"},"status":"cancelled","alreadyTerminal":true}"""));
        var decided = new DecidedApprovalView(Parse("""{"approval":{"id":"a1","status":"approved"}}"""));
        var sent = new MessageAcceptedView(Parse("""{"messageId":"m1","queued":"yes"}"""));
        var stopped = new StoppedSandboxView(Parse("""{"sandbox":{"id":"s1"},"alreadyStopped":true}"""));

        Assert.Equal(("r1", "cancelled", true), (cancel.Run.Id, cancel.Status, cancel.AlreadyTerminal));
        Assert.Equal(("a1", "approved"), (decided.Approval.Id, decided.Approval.Status));
        Assert.Equal(("m1", false), (sent.MessageId, sent.Queued));
        Assert.Equal(("s1", true), (stopped.Sandbox.Id, stopped.AlreadyStopped));
        Assert.Null(new CancelResultView(Parse("""{"run":"r1"}""")).Run.Id);
        Assert.Null(new DecidedApprovalView(Parse("{}")).Approval.Id);
    }

    [Fact]
    public void ApprovalAndDiffLists_NotAnObject_ThrowAsBefore()
    {
        // These two read their list as the commands always did: a missing or non-array field is an
        // empty list, an answer that is not an object an InvalidOperationException (exit 1).
        Assert.Empty(new ApprovalListView(Parse("""{"approvals":{}}""")).Approvals);
        Assert.Empty(new RunDiffView(Parse("{}")).Files);
        Assert.Throws<InvalidOperationException>(() => new ApprovalListView(Parse("[]")).Approvals);
        Assert.Throws<InvalidOperationException>(() => new RunDiffView(Parse("\"diff\"")).Files);
    }

    [Fact]
    public void RunDiffView_BinaryFile_HasNoLineCounts()
    {
        var diff = new RunDiffView(Parse("""
            {"files":[{"path":"a.txt","status":"added","additions":2,"deletions":0},{"path":"b.png","status":"modified","additions":null,"deletions":"0"}],
             "patch":"+x\n","truncated":true}
            """));

        Assert.Equal([("a.txt", "added", (int?)2, (int?)0), ("b.png", "modified", null, null)], diff.Files.Select(f => (f.Path, f.Status, f.Additions, f.Deletions)));
        Assert.Equal(("+x\n", true), (diff.Patch, diff.Truncated));
    }

    [Fact]
    public void ApprovalView_ReadsWhatThePersonIsShown()
    {
        var approval = Assert.Single(new ApprovalListView(Parse("""{"approvals":[{"id":"a1","status":"pending","risk":"high","action":"run_command","target":"rm -rf /","details":{}}]}""")).Approvals);

        Assert.Equal(("a1", "pending", "high", "run_command", "rm -rf /"), (approval.Id, approval.Status, approval.Risk, approval.Action, approval.Target));
    }
}
