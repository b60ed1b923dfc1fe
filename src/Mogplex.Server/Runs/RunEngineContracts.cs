namespace Mogplex.Server.Runs;

/// <summary>Tells whoever executes a run that its cancellation was requested (the run engine implements it).</summary>
public interface IRunCancellationSignal
{
    void Signal(string runId);
}

/// <summary>The harnesses a run may name on this server (the run engine's registry implements it).</summary>
public interface IHarnessCatalog
{
    IReadOnlySet<string> EnabledNames { get; }
}

/// <summary>Wakes idle workers when a run is accepted (a poll is the backstop).</summary>
public sealed class RunQueueSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    public void Notify() => _signal.Release();

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}

/// <summary>A run's changes: the commit they are against, the delivered commit (null while live), each file, and the patch.</summary>
public sealed record RunDiffResult(string? Base, string? Head, IReadOnlyList<RunDiffFile> Files, string Patch, bool Truncated);

/// <summary>One changed file: <c>added</c>, <c>modified</c>, <c>deleted</c> (or git's letter otherwise); counts null for binary files.</summary>
public sealed record RunDiffFile(string Path, string Status, int? Additions, int? Deletions);

/// <summary>Computes run diffs (the run engine implements it): live from a sandbox this node works in, or of a delivered commit.</summary>
public interface IRunDiffSource
{
    /// <summary>The sandbox's changes against the run's start, while a run of this node works in it; null when it does not (yet, or on another node).</summary>
    /// <exception cref="RunDiffUnavailableException">The sandbox cannot be diffed (e.g. a file over the delivery limits).</exception>
    Task<RunDiffResult?> LiveAsync(string runId, CancellationToken ct);

    /// <summary>A delivered commit against its parent, from the repo's mirror.</summary>
    Task<RunDiffResult> CommitAsync(string repoId, string commit, CancellationToken ct);
}

/// <summary>A live diff was refused; the message says why (shown to the caller).</summary>
public sealed class RunDiffUnavailableException(string message) : Exception(message);
