using Mogplex.Contracts.Events;

namespace Mogplex.Cli.Cockpit.State;

/// <summary>
/// What reaches the cockpit's one store, from whichever transport: a run's event, what the server
/// says a run is now (a snapshot), or the transport's own health. The screen is a pure function of
/// the sequence of these (cockpit.md: replaying the same JSONL rebuilds the same screen).
/// </summary>
public abstract record CockpitEvent
{
    private CockpitEvent()
    {
    }

    /// <summary>One event of <paramref name="RunId"/>, as the server stored it.</summary>
    public sealed record RunEventArrived(string RunId, RunEvent Event) : CockpitEvent;

    /// <summary>A run as the server describes it (<c>GET /runs/{id}</c>, the list, or the end of a follow); one <paramref name="StartedHere"/> (from this cockpit's composer) is selected.</summary>
    public sealed record RunSnapshot(RunSummary Run, bool StartedHere = false) : CockpitEvent;

    /// <summary>The transport's health changed (shown in the header).</summary>
    public sealed record HealthChanged(TransportHealth Health, string? Detail = null) : CockpitEvent;
}

/// <summary>The transport's health as the header shows it (cockpit.md).</summary>
public enum TransportHealth
{
    Connecting,
    Nominal,
    Reconnect,
    Degraded,
    Offline,
}

/// <summary>What the cockpit knows of a run from a snapshot; null fields were not in it.</summary>
public sealed record RunSummary(string Id)
{
    public string? Status { get; init; }

    public string? Harness { get; init; }

    public string? RepoId { get; init; }

    public string? Model { get; init; }

    /// <summary><c>auto</c> or <c>approval</c> ([beyond]; null from a server that does not say).</summary>
    public string? PermissionMode { get; init; }

    public string? Branch { get; init; }

    public string? Awaiting { get; init; }

    public int? Turns { get; init; }

    public bool? Interactive { get; init; }

    public string? Error { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }
}
