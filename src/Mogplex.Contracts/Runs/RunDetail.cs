namespace Mogplex.Contracts.Runs;

/// <summary>The run detail (<c>MogplexApiRunDetail</c>), camelCase on the wire.</summary>
public record RunDetail
{
    public required string RunId { get; init; }
    public required string AiCallId { get; init; }
    public string? SandboxRecordId { get; init; }
    public string? SandboxId { get; init; }
    public required string RepoId { get; init; }
    public required string Harness { get; init; }
    public required string Status { get; init; }
    public required RunBranch Branch { get; init; }
    public required string RootDirectory { get; init; }
    public required string EventsUrl { get; init; }
    public required string CancelUrl { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public string? Error { get; init; }
    public required RunRuntime Runtime { get; init; }

    /// <summary>[beyond] token usage and cost, nulls when unknown.</summary>
    public required RunUsage Usage { get; init; }

    /// <summary>[beyond] when a worker started executing the run.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>[beyond] when the run reached a terminal status.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>[beyond] the commit delivered to the working branch, if any.</summary>
    public string? Commit { get; init; }

    /// <summary>[beyond] <c>auto</c> or <c>approval</c>.</summary>
    public string PermissionMode { get; init; } = "auto";

    /// <summary>[beyond] what the run waits for: <c>approval</c> (a pending approval), <c>input</c>, or null.</summary>
    public string? Awaiting { get; init; }

    /// <summary>[beyond] how many of its approvals are pending.</summary>
    public int PendingApprovals { get; init; }

    /// <summary>[beyond] the run stays open between turns until finish, cancel or the idle limit.</summary>
    public bool Interactive { get; init; }

    /// <summary>[beyond] how many turns the harness started.</summary>
    public int Turns { get; init; }

    /// <summary>
    /// [beyond] why a <c>pending</c> run that no worker has claimed yet waits, and its place in
    /// that line; null for every other run (claimed, streaming, terminal, or being cancelled).
    /// </summary>
    public RunQueuePlace? Queue { get; init; }
}

/// <summary>[beyond] a waiting run's place in the claim order.</summary>
/// <param name="Position">
/// 1-based: 1 + the number of waiting runs in the same line that the workers will claim before this
/// one (for <c>worker</c>: every claimable run; <c>branch</c>: the runs of its branch; <c>user-limit</c>:
/// its user's runs not waiting for a branch).
/// </param>
/// <param name="WaitingFor">One of <see cref="RunWaitReasons"/>: <c>branch</c>, <c>worker</c>, <c>user-limit</c>.</param>
public sealed record RunQueuePlace(int Position, string WaitingFor);

/// <summary>The base and working branch of a run.</summary>
public sealed record RunBranch(string Base, string Working, bool CreateBranch);

/// <summary>The engine that executes the run and its node-local execution id.</summary>
public sealed record RunRuntime(string Provider, string? RunId);

/// <summary>[beyond] usage summed over a run; null fields are unknown.</summary>
public sealed record RunUsage(long? InputTokens, long? CachedInputTokens, long? OutputTokens, decimal? CostUsd);
