using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Auth;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Runs;

/// <summary>
/// What a person sends an interactive run (interactive.md): a follow-up (queued after the current
/// turn, or steered into it where the harness can), an interrupt of the running turn, or finish.
/// Any node stores it; the node that runs the harness wakes on the run's change notification,
/// takes the inputs in order, once each, and acts on them.
/// </summary>
public sealed class RunInputService(IMogplexStore store, RunEvents events, TimeProvider time)
{
    public const int MaxTextLength = Mogplex.Contracts.ApiLimits.MaxMessageLength;
    public const int MaxKeyLength = RunService.MaxIdempotencyKeyLength;

    /// <summary>The harness that can add a message to a running turn (Codex <c>turn/steer</c>).</summary>
    private const string SteerableHarness = "codex";

    public async Task<SendOutcome> SendMessageAsync(Caller caller, string runId, string text, string mode, string? clientKey, CancellationToken ct)
    {
        var run = await store.Runs.GetRunAsync(runId, caller.UserId, ct);
        if (run is null)
        {
            return new SendOutcome.NotFound();
        }

        var id = Guid.CreateVersion7(time.GetUtcNow()).ToString();
        var message = events.Create(RunEventTypes.UserMessage, text, payload: new JsonObject { ["messageId"] = id, ["mode"] = mode });
        var (outcome, stored) = await store.Sessions.AddInputAsync(
            new RunInputRecord { Id = id, RunId = runId, Kind = RunInputKinds.Message, Text = text, Mode = mode, ClientKey = clientKey, CreatedAt = time.GetUtcNow() },
            caller.UserId,
            [message],
            ct);

        // Queued: it waits for the running turn (a steer only where the harness can take one).
        var queued = !run.AwaitingInput && !(mode == "steer" && run.Harness == SteerableHarness);
        return Result(outcome, stored, queued);
    }

    /// <summary>An interrupt or finish (<see cref="RunInputKinds"/>), with a line in the run's events saying who asked.</summary>
    public async Task<SendOutcome> SignalAsync(Caller caller, string runId, string kind, CancellationToken ct)
    {
        var id = Guid.CreateVersion7(time.GetUtcNow()).ToString();
        var said = events.Create(
            RunEventTypes.Log,
            kind == RunInputKinds.Interrupt ? "Interrupt requested" : "Finish requested",
            payload: new JsonObject { ["stage"] = "session", ["input"] = kind, ["inputId"] = id });
        var (outcome, stored) = await store.Sessions.AddInputAsync(
            new RunInputRecord { Id = id, RunId = runId, Kind = kind, CreatedAt = time.GetUtcNow() },
            caller.UserId,
            [said],
            ct);
        return Result(outcome, stored, queued: false);
    }

    private static SendOutcome Result(AddRunInputOutcome outcome, RunInputRecord? stored, bool queued) => outcome switch
    {
        AddRunInputOutcome.Added or AddRunInputOutcome.Replayed => new SendOutcome.Accepted(stored!, queued),
        AddRunInputOutcome.KeyConflict => new SendOutcome.KeyConflict(),
        AddRunInputOutcome.NotInteractive => new SendOutcome.NotInteractive(),
        AddRunInputOutcome.Terminal => new SendOutcome.Terminal(),
        _ => new SendOutcome.NotFound(),
    };
}

/// <summary>What <see cref="RunInputService"/> did with an input.</summary>
public abstract record SendOutcome
{
    private SendOutcome()
    {
    }

    public sealed record Accepted(RunInputRecord Input, bool Queued) : SendOutcome;

    public sealed record NotFound : SendOutcome;

    public sealed record NotInteractive : SendOutcome;

    public sealed record Terminal : SendOutcome;

    /// <summary>The Idempotency-Key came before with another message.</summary>
    public sealed record KeyConflict : SendOutcome;
}
