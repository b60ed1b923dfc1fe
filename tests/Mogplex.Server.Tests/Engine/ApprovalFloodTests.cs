using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Mogplex.Server.Engine;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Events;
using Mogplex.Server.Runs.Permissions;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// A harness in approval mode is untrusted too: one that floods asks can neither store more than
/// its output could (rule answers go the way of output, under Runs:MaxEvents) nor leave more than
/// <see cref="ApprovalBroker.MaxWaiting"/> approvals waiting; every ask still gets its answer.
/// </summary>
public sealed class ApprovalFloodTests
{
    [Fact]
    public async Task FloodOfAsks_RuleAnswersGoThroughTheLimitedPath_WaitingIsCapped_EveryAskIsAnswered()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var runId = (await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", permissionMode = "approval" })).Data.GetProperty("runId").GetString()!;
        var store = server.Services.GetRequiredService<IMogplexStore>();
        var session = new FloodSession();
        var recorded = new List<NewRunEvent>();
        var written = new List<string>();
        var (rule, _) = PermissionRule.Parse(Verdict.Deny, "bash:rm *");
        var eventsBefore = (await store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct)).Count;

        await using (var broker = new ApprovalBroker(
            store,
            server.Services.GetRequiredService<RunEvents>(),
            server.Time,
            runId,
            new PermissionResolver(PermissionMode.Approval, [rule!]),
            session,
            written.AddRange,
            () => Task.CompletedTask,
            e =>
            {
                recorded.Add(e);
                return Task.CompletedTask;
            },
            new object(),
            TimeSpan.FromMinutes(30),
            NullLogger.Instance))
        {
            // 1,000 asks a rule denies, then 100 no rule settles.
            await broker.HandleAsync([.. Enumerable.Range(0, 1000).Select(i => Ask($"d{i}", "rm -rf /"))]);
            await broker.HandleAsync([.. Enumerable.Range(0, 100).Select(i => Ask($"a{i}", "make test"))]);

            var pending = await store.Approvals.ListAsync(runId, pendingOnly: true, ServerFixture.Ct);
            Assert.Equal(ApprovalBroker.MaxWaiting, pending.Count);
            Assert.Equal(1000 + 100 - ApprovalBroker.MaxWaiting, recorded.Count);
            Assert.All(recorded, e => Assert.Equal("approval_decided", e.Type));
            Assert.Equal(1000 + 100 - ApprovalBroker.MaxWaiting, session.Answers.Count);
            Assert.All(session.Answers, a => Assert.False(a.Approve));
            Assert.Contains(session.Answers, a => a.Reason == $"too many approvals waiting (at most {ApprovalBroker.MaxWaiting})");

            // Only the waiting ones wrote events past the limited path: one approval_requested each.
            var stored = await store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct);
            Assert.Equal(eventsBefore + ApprovalBroker.MaxWaiting, stored.Count);
        }
    }

    private static SessionSignal.ApprovalAsked Ask(string reference, string command) =>
        new(reference, new ToolCall("run_command", [new Descriptor(DescriptorKind.Bash, command)], Risk.Medium, command, "Bash", command), "turn-1");

    /// <summary>A session that records the answers it is given.</summary>
    private sealed class FloodSession : ISessionProtocol
    {
        public List<(string Ref, bool Approve, string? Reason)> Answers { get; } = [];

        public bool TurnEnded => false;

        public bool TurnActive => true;

        public bool Broken => throw new NotImplementedException();

        public string? SessionId => throw new NotImplementedException();

        public void Answer(string approvalRef, bool approve, string? reason) => Answers.Add((approvalRef, approve, reason));

        public IReadOnlyList<string> TakeWrites() => [];

        public IReadOnlyList<SessionSignal> TakeSignals() => [];

        public void StartTurn(string text)
        {
        }

        public bool Steer(string text) => false;

        public void Interrupt()
        {
        }

        public IReadOnlyList<HarnessEvent> Parse(Mogplex.Server.Engine.Processes.HarnessProcess.OutputLine line) => [];

        public HarnessOutcome Complete(int exitCode) => HarnessOutcome.Success;
    }
}
