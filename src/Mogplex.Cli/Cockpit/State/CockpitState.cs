using System.Collections.Immutable;

namespace Mogplex.Cli.Cockpit.State;

/// <summary>
/// Everything the cockpit shows, immutable: the runs (newest first), which one is selected, the
/// approvals that wait for a person across runs, and the transport's health. Made only by
/// <see cref="Reducer"/>; every text in it was made safe for a terminal on the way in.
/// </summary>
public sealed record CockpitState
{
    public static readonly CockpitState Empty = new();

    /// <summary>Newest first (by when the cockpit first heard of them).</summary>
    public ImmutableList<CockpitRun> Runs { get; init; } = [];

    public string? SelectedRunId { get; init; }

    public TransportHealth Health { get; init; } = TransportHealth.Connecting;

    public string? HealthDetail { get; init; }

    /// <summary>Approvals nobody answered yet, across runs, oldest first.</summary>
    public ImmutableList<PendingApproval> Approvals { get; init; } = [];

    public CockpitRun? Selected => SelectedRunId is null ? null : Runs.Find(r => r.Id == SelectedRunId);

    /// <summary>Runs that wait for a person: an approval or the next message.</summary>
    public int NeedsYou => Runs.Count(r => r.NeedsYou);
}

/// <summary>One run as the cockpit knows it.</summary>
public sealed record CockpitRun(string Id)
{
    public string Status { get; init; } = "pending";

    public string? Harness { get; init; }

    public string? RepoId { get; init; }

    public string? Model { get; init; }

    public string? PermissionMode { get; init; }

    public string? Branch { get; init; }

    /// <summary><c>approval</c>, <c>input</c> or null.</summary>
    public string? Awaiting { get; init; }

    public int Turns { get; init; }

    /// <summary>The turns this cockpit saw start (numbers the timeline's turn rows).</summary>
    public int TurnsSeen { get; init; }

    public bool Interactive { get; init; }

    public string? Error { get; init; }

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    /// <summary>Of <see cref="InputTokens"/>, how many were read from the provider's cache.</summary>
    public long CachedInputTokens { get; init; }

    /// <summary>What each turn used (the cost drawer), oldest first.</summary>
    public ImmutableList<TurnUsage> Usage { get; init; } = [];

    /// <summary>The run's events as they came (oldest first, at most <see cref="Reducer.MaxRows"/>): what an export writes; not made safe for a terminal, so never drawn.</summary>
    public ImmutableList<Mogplex.Contracts.Events.RunEvent> Events { get; init; } = [];

    public decimal CostUsd { get; init; }

    /// <summary>The highest event sequence number applied: an event at or below it is a replay and changes nothing.</summary>
    public long LastSeq { get; init; }

    public ImmutableList<TimelineRow> Timeline { get; init; } = [];

    public bool IsTerminal => Mogplex.Contracts.Runs.RunStatuses.IsTerminal(Status);

    public bool NeedsYou => !IsTerminal && Awaiting is not null;

    /// <summary>The fleet view's group: needs you, working, done.</summary>
    public RunGroup Group => IsTerminal ? RunGroup.Done : NeedsYou ? RunGroup.NeedsYou : RunGroup.Working;
}

public enum RunGroup
{
    NeedsYou,
    Working,
    Done,
}

/// <summary>What kind of line a timeline row is (drawn differently).</summary>
public enum RowKind
{
    Lifecycle,
    Log,
    User,
    Assistant,
    Reasoning,
    Tool,
    Approval,
    Turn,
    Error,
}

/// <summary>One row of a run's timeline. <see cref="Detail"/> (a tool's output, what an approval is about) is collapsed until opened.</summary>
public sealed record TimelineRow(long Seq, RowKind Kind, string Text)
{
    public string? Detail { get; init; }

    public string? ApprovalId { get; init; }

    /// <summary>For an approval row: how it was decided (null while it waits).</summary>
    public string? Decision { get; init; }
}

/// <summary>An approval waiting for a person.</summary>
public sealed record PendingApproval(string RunId, string ApprovalId, string Action, string Target, string Risk);
