using System.Collections.Concurrent;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// This node's sandbox checkouts: the gate a run holds while it works in one, and their removal.
/// A sandbox lives on the node that prepared it (its record names the node): a stop received by
/// another node is carried out by the owning node's maintenance (<see cref="RemoveUnownedCheckoutsAsync"/>).
/// </summary>
public sealed class SandboxCheckouts(IMogplexStore store, ServeSettings settings, TimeProvider time, ILogger<SandboxCheckouts> logger)
{
    /// <summary>The wait after the first failed removal of a checkout; it doubles with each failure.</summary>
    public static readonly TimeSpan FirstRemovalRetry = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts to remove a checkout.</summary>
    public static readonly TimeSpan MaxRemovalRetry = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Checkouts whose removal failed: how often, and when the next attempt is due.</summary>
    private readonly ConcurrentDictionary<string, RemovalRetry> _retries = new(StringComparer.Ordinal);

    /// <summary>
    /// Checkouts of stopped sandboxes that a run still held when the stop came (its status is
    /// final, its process group not yet gone): removed the moment that run lets go.
    /// </summary>
    private readonly ConcurrentDictionary<string, string> _removeOnRelease = new(StringComparer.Ordinal);

    /// <summary>
    /// The gate of a sandbox's checkout on this node: a run holds it from preparing the checkout
    /// to its end (one run at a time per sandbox), and a checkout is removed only by whoever can
    /// take it at once. A record may move to another node while a run here still works in this
    /// node's checkout (a run for the same branch claimed there); the checkout stays until the run ends.
    /// </summary>
    private SemaphoreSlim Gate(string sandboxRecordId) => _gates.GetOrAdd(sandboxRecordId, _ => new SemaphoreSlim(1, 1));

    /// <summary>
    /// Waits for a sandbox's checkout and holds it until the returned hold is disposed. A stop
    /// that came meanwhile removes the checkout as the hold is let go.
    /// </summary>
    public async Task<IDisposable> EnterAsync(string sandboxRecordId, CancellationToken ct)
    {
        await Gate(sandboxRecordId).WaitAsync(ct);
        return new Hold(this, sandboxRecordId);
    }

    private void Release(string sandboxRecordId)
    {
        Gate(sandboxRecordId).Release();
        if (_removeOnRelease.TryGetValue(sandboxRecordId, out var path))
        {
            RemoveStopped(path, sandboxRecordId);
        }
    }

    /// <summary>Stops a sandbox nobody used for <c>Sandbox:IdleTimeout</c> (skipped while a run uses it).</summary>
    public async Task StopIdleAsync(SandboxRecord sandbox, CancellationToken ct)
    {
        var (outcome, stopped) = await store.Sandboxes.StopAsync(sandbox.Id, null, SandboxLifecycle.Record(sandbox.Id, "stopped", "idle_timeout", time.GetUtcNow()), ct);
        if (outcome == StopSandboxOutcome.Stopped)
        {
            RemoveCheckout(stopped!);
        }
    }

    /// <summary>
    /// Removes checkouts in this node's data folder that no active sandbox of this node owns: stopped
    /// through another node, taken over by another node, or left behind by a crash.
    /// </summary>
    public async Task RemoveUnownedCheckoutsAsync(CancellationToken ct)
    {
        var root = Path.Combine(settings.DataDir, "sandboxes");
        if (!Directory.Exists(root))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var id = Path.GetFileName(dir);
            if (!Guid.TryParse(id, out _))
            {
                continue;
            }

            seen.Add(id);
            var record = await store.Sandboxes.GetAsync(id, null, ct);
            if (record is null || !SandboxStatuses.IsActive(record.Status) || !IsThisNodes(record))
            {
                RemoveDirectory(dir, id);
            }
        }

        // A checkout that is gone (removed by hand, or reused) needs no more attempts.
        foreach (var id in _retries.Keys.Where(id => !seen.Contains(id)))
        {
            _retries.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Whether an active sandbox's checkout is this node's: the record names this node, or names an
    /// earlier process of it (a node's id changes with its process) and its folder is in this
    /// node's data folder — an interactive run kept open across a restart resumes there. A record
    /// another node took over names that node's folder.
    /// </summary>
    public bool IsThisNodes(SandboxRecord sandbox) =>
        sandbox.NodeId is null || sandbox.NodeId == settings.NodeId ||
        (sandbox.Path is { } path && string.Equals(Path.GetFullPath(path), Path.GetFullPath(Path.Combine(settings.DataDir, "sandboxes", sandbox.Id)), StringComparison.Ordinal));

    /// <summary>How long to wait after the <paramref name="failures"/>-th failed removal: 5 s, doubling, at most 10 min.</summary>
    public static TimeSpan RemovalRetryDelay(int failures)
    {
        var delay = FirstRemovalRetry * Math.Pow(2, Math.Min(failures - 1, 30));
        return delay < MaxRemovalRetry ? delay : MaxRemovalRetry;
    }

    /// <summary>Removes a stopped sandbox's checkout when it is on this node (another node's is that node's to remove).</summary>
    public void RemoveCheckout(SandboxRecord sandbox)
    {
        // Another node's checkout is that node's to remove (its maintenance sees the stopped record).
        if (!IsThisNodes(sandbox))
        {
            return;
        }

        if (sandbox.Path is { Length: > 0 } path && Directory.Exists(path))
        {
            RemoveStopped(path, sandbox.Id);
        }
    }

    /// <summary>
    /// Removes a stopped sandbox's checkout now, or as the run that still holds it lets go. A
    /// stopped record never becomes active again, so whichever of the two comes last removes it.
    /// </summary>
    private void RemoveStopped(string path, string sandboxId)
    {
        _removeOnRelease[sandboxId] = path;
        if (RemoveDirectory(path, sandboxId))
        {
            _removeOnRelease.TryRemove(sandboxId, out _);
        }
    }

    /// <summary>
    /// Removes a sandbox's folder without following the links a harness left, after giving back
    /// the permissions it took away (<see cref="SandboxFolders.Delete"/>). When that still fails,
    /// the maintenance tries again later, each time waiting twice as long (up to 10 minutes), and
    /// logs once per attempt: a folder that cannot be removed costs a few lines an hour, not one every pass.
    /// </summary>
    /// <returns>False when a run of this node holds the checkout (nothing was tried).</returns>
    private bool RemoveDirectory(string path, string sandboxId)
    {
        var now = time.GetUtcNow();
        _retries.TryGetValue(sandboxId, out var retry);
        if (retry is not null && now < retry.NextAttempt)
        {
            return true;
        }

        var gate = Gate(sandboxId);
        if (!gate.Wait(0))
        {
            // A run of this node works in it: a later maintenance pass removes it once the run
            // ended (a stopped sandbox's, as the run lets go: RemoveStopped).
            return false;
        }

        try
        {
            SandboxFolders.Delete(path);
            if (_retries.TryRemove(sandboxId, out var failed))
            {
                logger.LogInformation("Removed the checkout of sandbox {SandboxId} after {Failures} failed attempts", sandboxId, failed.Failures);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var failures = (retry?.Failures ?? 0) + 1;
            var delay = RemovalRetryDelay(failures);
            _retries[sandboxId] = new RemovalRetry(failures, now + delay);
            logger.LogWarning(ex, "Could not remove the checkout of sandbox {SandboxId} (attempt {Attempt}); next attempt in {Delay}", sandboxId, failures, delay);
        }
        finally
        {
            gate.Release();
        }

        return true;
    }

    private sealed record RemovalRetry(int Failures, DateTimeOffset NextAttempt);

    private sealed class Hold(SandboxCheckouts checkouts, string sandboxRecordId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                checkouts.Release(sandboxRecordId);
            }
        }
    }
}
