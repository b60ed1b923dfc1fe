using System.Text.Json.Nodes;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>An agent runtime a run can name (<c>codex</c>, <c>claude-code</c>, <c>exec</c>).</summary>
public interface IHarness
{
    string Name { get; }

    /// <summary>The process to start for a run in a prepared sandbox. The prompt goes on stdin, never in argv.</summary>
    ProcessSpec BuildProcess(HarnessContext context);

    /// <summary>A fresh parser for one run's output (it learns the run's paths from <paramref name="context"/>).</summary>
    IHarnessOutputParser CreateParser(HarnessContext context);

    /// <summary>
    /// Before a resume: whether the harness saved the conversation it can go on with. It saves
    /// lazily (Codex once the first turn starts, Claude Code a moment after it), so a server killed
    /// in that moment leaves a conversation it has no record of; then a new one starts and its
    /// first message carries the run's prompt (<see cref="HarnessContext.CarryPrompt"/>).
    /// </summary>
    bool ConversationSaved(HarnessContext context) => context.Run.HarnessSession is not null;
}

/// <summary>Where and for what a harness runs: the run's folder in the checkout, the sandbox home, the sandbox, the checkout.</summary>
public sealed record HarnessContext(RunRecord Run, string WorkingDirectory, string HomeDirectory, string SandboxDirectory, string CheckoutDirectory)
{
    /// <summary>
    /// An interactive run resumed after a restart: the harness's state in the sandbox home is kept,
    /// and its conversation (<see cref="RunRecord.HarnessSession"/>) is resumed instead of started; no prompt is sent.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// A resumed run whose harness saved no conversation (<see cref="IHarness.ConversationSaved"/>):
    /// a new one starts, nothing is sent until the next message, which carries the run's prompt
    /// ahead of it, so the model still has everything the person said.
    /// </summary>
    public bool CarryPrompt { get; init; }
}

/// <summary>
/// Turns one harness's output lines into v1 events. Unknown or malformed lines become <c>log</c>
/// events, never an exception.
/// </summary>
public interface IHarnessOutputParser
{
    IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line);

    /// <summary>Decides the run's outcome from what the stream reported and the exit code together.</summary>
    HarnessOutcome Complete(int exitCode);
}

/// <summary>A normalized event, not yet sanitized, and the usage it reports (summed into the run).</summary>
public sealed record HarnessEvent(string Type, string? Message, string? ToolName = null, JsonNode? Payload = null, UsageDelta? Usage = null);

/// <summary>Success, or failure with a reason for the run's <c>error</c>.</summary>
public sealed record HarnessOutcome(bool Succeeded, string? Error)
{
    public static readonly HarnessOutcome Success = new(true, null);

    public static HarnessOutcome Failure(string error) => new(false, error);
}

/// <summary>
/// A harness that talks a protocol on its stdin while it runs (Codex <c>app-server</c>, Claude
/// Code's stream-json input): besides parsing, it says what to write next (its requests, answers,
/// the prompt) and when a turn has ended. Pure like every parser: the executor does the writing.
/// </summary>
public interface ISessionProtocol : IHarnessOutputParser
{
    /// <summary>Lines to write to the harness's stdin now (the first ones right after start), in order; each call takes them.</summary>
    IReadOnlyList<string> TakeWrites();

    /// <summary>True once a turn has ended (completed, failed or interrupted): a one-turn run closes stdin then.</summary>
    bool TurnEnded { get; }

    /// <summary>True while a turn runs (from its start to its end).</summary>
    bool TurnActive { get; }

    /// <summary>What happened since the last call, in order: turns started and ended, asks made and withdrawn.</summary>
    IReadOnlyList<SessionSignal> TakeSignals();

    /// <summary>Starts a turn with this text (a follow-up); queued by the protocol until the session is ready.</summary>
    void StartTurn(string text);

    /// <summary>
    /// Adds this text to the running turn where the harness can (Codex <c>turn/steer</c>); true when
    /// it was sent so. Otherwise (no turn runs, or the harness cannot) it is a follow-up as by <see cref="StartTurn"/>.
    /// </summary>
    bool Steer(string text);

    /// <summary>Answers an ask (<see cref="SessionSignal.ApprovalAsked.Ref"/>); the reason reaches the model on a reject.</summary>
    void Answer(string approvalRef, bool approve, string? reason);

    /// <summary>Stops the running turn; the session stays for the next one.</summary>
    void Interrupt();

    /// <summary>The session cannot go on (the harness refused to start or resume it): its input closes and the run fails with the reason.</summary>
    bool Broken { get; }

    /// <summary>The harness's own conversation id (Codex thread, Claude Code session) once known: a new process can resume it.</summary>
    string? SessionId { get; }
}

/// <summary>A change in a harness session the run engine acts on.</summary>
public abstract record SessionSignal
{
    private SessionSignal()
    {
    }

    public sealed record TurnStarted(string TurnId) : SessionSignal;

    /// <param name="TurnId">The harness's turn id (Codex) or ours (<c>turn-N</c>, Claude Code).</param>
    /// <param name="Status"><c>completed</c>, <c>interrupted</c> or <c>failed</c>.</param>
    /// <param name="Error">Why a failed turn failed.</param>
    /// <param name="Usage">This turn's usage (a delta, even where the CLI reports totals).</param>
    public sealed record TurnCompleted(string TurnId, string Status, string? Error, UsageDelta? Usage) : SessionSignal;

    /// <summary>The harness asks before a tool call; <see cref="Ref"/> answers it.</summary>
    public sealed record ApprovalAsked(string Ref, Runs.Permissions.ToolCall Call, string? TurnId) : SessionSignal;

    /// <summary>The harness no longer waits for that answer (its turn ended or was interrupted).</summary>
    public sealed record ApprovalWithdrawn(string Ref) : SessionSignal;
}
