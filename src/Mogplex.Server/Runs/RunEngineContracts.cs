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
