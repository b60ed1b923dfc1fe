using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>What <see cref="WarmCheckoutPool.TryTakeAsync"/> gave.</summary>
public enum WarmTake
{
    /// <summary>Nothing: the caller clones.</summary>
    None,

    /// <summary>A checkout that was ready.</summary>
    Ready,

    /// <summary>A checkout the filler finished while the caller waited.</summary>
    AfterWait,
}

/// <summary>
/// Prepared checkouts waiting for runs: per (repo, base branch) up to <c>Sandbox:WarmCheckouts</c>
/// clones of the mirror (<c>git clone --shared</c>, the fastest isolated strategy measured, see
/// docs/decisions.md) checked out at the base branch's tip. A new sandbox on a new branch takes one
/// (a directory move) instead of cloning on the run's critical path. One background filler per
/// key, refills the pool right after a checkout is taken and after each fetch.
/// When the tip moves, a waiting checkout is brought to it in place (fetch and a checkout that
/// rewrites only the changed files) instead of being deleted and cloned again. A checkout is only
/// handed out at the exact commit asked for, so a run never starts from a stale base.
/// The pool lives in memory: its folder is emptied at start and removed on shutdown; a key idle
/// for <c>Sandbox:IdleTimeout</c> gives its checkouts back.
/// </summary>
public sealed class WarmCheckoutPool : IAsyncDisposable
{
    private readonly ServeSettings _settings;
    private readonly IOptionsMonitor<SandboxOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WarmCheckoutPool> _logger;
    private readonly ConcurrentDictionary<(string Repo, string Branch), Slot> _slots = new();
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposed;

    /// <summary>Longest a run waits for the filler before it clones on its own.</summary>
    private static readonly TimeSpan s_maxWait = TimeSpan.FromSeconds(30);

    public WarmCheckoutPool(ServeSettings settings, IOptionsMonitor<SandboxOptions> options, TimeProvider time, ILogger<WarmCheckoutPool> logger)
    {
        _settings = settings;
        _options = options;
        _time = time;
        _logger = logger;

        // Checkouts a previous process left (it crashed before removing them) are of no use.
        TryDelete(Root);
    }

    /// <summary>A prepared checkout: its folder, the commit it is checked out at (detached) and the local branch its clone made.</summary>
    private sealed record Warm(string Directory, string Commit, string? LocalBranchRef);

    /// <summary>The pool of one (repo, base branch). Every field is guarded by locking the slot.</summary>
    private sealed class Slot(string repo, string branch)
    {
        public string Repo { get; } = repo;

        public string Branch { get; } = branch;

        public List<Warm> Ready { get; } = [];

        /// <summary>The commit the filler works toward (the tip at the last fetch).</summary>
        public string? Target { get; set; }

        public string Mirror { get; set; } = "";

        public Task? Filler { get; set; }

        public int Waiters { get; set; }

        public DateTimeOffset LastUsed { get; set; }

        /// <summary>Swept as idle: no longer in the pool's table.</summary>
        public bool Removed { get; set; }

        /// <summary>Completed (and replaced) whenever a checkout becomes ready or the filler stops.</summary>
        public TaskCompletionSource Changed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Signal()
        {
            var changed = Changed;
            Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }
    }

    internal string Root => Path.Combine(_settings.DataDir, "sandboxes", ".warm");

    /// <summary>Checkouts ready for (repo, base branch) at <paramref name="commit"/>.</summary>
    internal int ReadyCount(string repoId, string baseBranch, string commit)
    {
        if (!_slots.TryGetValue((repoId, baseBranch), out var slot))
        {
            return 0;
        }

        lock (slot)
        {
            return slot.Ready.Count(w => w.Commit == commit);
        }
    }

    /// <summary>Whether a filler is working for (repo, base branch).</summary>
    internal bool IsFilling(string repoId, string baseBranch)
    {
        if (!_slots.TryGetValue((repoId, baseBranch), out var slot))
        {
            return false;
        }

        lock (slot)
        {
            return slot.Filler is not null;
        }
    }

    /// <summary>
    /// Brings the pool of (repo, base branch) to <paramref name="commit"/> (the tip after a fetch)
    /// and to its size, in the background; creates the pool on first use.
    /// </summary>
    public void Refill(string repoId, string baseBranch, string mirror, string commit)
    {
        if (_disposed || _options.CurrentValue.WarmCheckouts <= 0)
        {
            return;
        }

        while (true)
        {
            var slot = _slots.GetOrAdd((repoId, baseBranch), k => new Slot(k.Repo, k.Branch));
            lock (slot)
            {
                if (slot.Removed)
                {
                    // Swept as idle between the lookup and the lock: take the new one.
                    continue;
                }

                slot.LastUsed = _time.GetUtcNow();
                Kick(slot, mirror, commit);
                break;
            }
        }

        SweepIdle();
    }

    /// <summary>
    /// After a fetch of the repo's mirror: pools of its other base branches move to their new tips
    /// in the background (the pool of the run's own base is refilled by <see cref="Refill"/>).
    /// </summary>
    public void Refresh(string repoId, string mirror, string? except)
    {
        foreach (var slot in _slots.Values.Where(s => s.Repo == repoId && s.Branch != except))
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    var tip = await RepoMirrors.TipAsync(mirror, slot.Branch, _stopping.Token);
                    lock (slot)
                    {
                        if (slot.Removed)
                        {
                            return;
                        }

                        if (tip is not null)
                        {
                            Kick(slot, mirror, tip);
                        }
                        else
                        {
                            // The branch is gone: so are its checkouts.
                            slot.Target = null;
                            DeleteInBackground(slot.Ready.Select(w => w.Directory).ToList());
                            slot.Ready.Clear();
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
                {
                    _logger.LogDebug(ex, "Could not refresh the warm checkouts of {Repo} {Branch}", slot.Repo, slot.Branch);
                }
            });
        }
    }

    /// <summary>
    /// Moves a checkout made at <paramref name="commit"/> to <paramref name="target"/> and starts
    /// the refill. When none is ready but the filler is making one at that commit, waits for it
    /// (one run at a time waits: a second concurrent run clones on its own rather than queue
    /// behind the first). <see cref="WarmTake.None"/> when there is nothing to take or wait for.
    /// </summary>
    public async Task<WarmTake> TryTakeAsync(string repoId, string baseBranch, string commit, string target, CancellationToken ct)
    {
        if (!_slots.TryGetValue((repoId, baseBranch), out var slot))
        {
            return WarmTake.None;
        }

        var waiting = false;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                Task changed;
                lock (slot)
                {
                    if (_disposed)
                    {
                        return WarmTake.None;
                    }

                    slot.LastUsed = _time.GetUtcNow();
                    var warm = slot.Ready.Find(w => w.Commit == commit);
                    if (warm is not null)
                    {
                        slot.Ready.Remove(warm);
                        Kick(slot, slot.Mirror, commit);
                        return !MoveTo(warm, target) ? WarmTake.None : waiting ? WarmTake.AfterWait : WarmTake.Ready;
                    }

                    if (slot.Filler is null || slot.Target != commit || (!waiting && slot.Waiters > 0))
                    {
                        return WarmTake.None;
                    }

                    if (!waiting)
                    {
                        waiting = true;
                        slot.Waiters++;
                    }

                    changed = slot.Changed.Task;
                }

                var left = s_maxWait - waited.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return WarmTake.None;
                }

                try
                {
                    await changed.WaitAsync(left, ct);
                }
                catch (TimeoutException)
                {
                    // A filler that slow is stuck: the run clones on its own.
                    return WarmTake.None;
                }
            }
        }
        finally
        {
            if (waiting)
            {
                lock (slot)
                {
                    slot.Waiters--;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stopping.CancelAsync();
        var fillers = new List<Task>();
        foreach (var slot in _slots.Values)
        {
            lock (slot)
            {
                if (slot.Filler is not null)
                {
                    fillers.Add(slot.Filler);
                }

                slot.Ready.Clear();
                slot.Signal();
            }
        }

        try
        {
            // Cancelling kills the fillers' git processes; wait for them before removing their folders.
            await Task.WhenAll(fillers).WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Warm checkout fillers did not stop in time; their folders may be left until the next start");
        }

        TryDelete(Root);
        _stopping.Dispose();
    }

    /// <summary>Sets the filler's goal and starts it when none runs. Called with the slot locked.</summary>
    private void Kick(Slot slot, string mirror, string commit)
    {
        slot.Mirror = mirror;
        slot.Target = commit;
        if (slot.Filler is null && !_disposed)
        {
            slot.Filler = Task.Run(() => FillAsync(slot));
        }
    }

    /// <summary>
    /// Until the pool holds its size at the target: brings stale checkouts up to date one at a
    /// time, and makes the missing ones side by side (two checkouts into different folders write
    /// about twice as many files per second as one checkout with more workers, which all create
    /// files in the same directories).
    /// </summary>
    private async Task FillAsync(Slot slot)
    {
        var creating = new List<(Task<Warm> Made, string Target)>();
        var stopped = false;
        try
        {
            while (true)
            {
                Warm? stale;
                string? target;
                string mirror;
                var start = 0;
                var extra = new List<string>();
                lock (slot)
                {
                    var size = _options.CurrentValue.WarmCheckouts;
                    while (slot.Ready.Count > size)
                    {
                        extra.Add(slot.Ready[^1].Directory);
                        slot.Ready.RemoveAt(slot.Ready.Count - 1);
                    }

                    target = _disposed ? null : slot.Target;
                    stale = target is null ? null : slot.Ready.Find(w => w.Commit != target);
                    if (stale is not null)
                    {
                        slot.Ready.Remove(stale);
                    }
                    else if (target is not null)
                    {
                        start = size - slot.Ready.Count - creating.Count;
                    }

                    if (stale is null && start <= 0 && creating.Count == 0)
                    {
                        DeleteInBackground(extra);
                        slot.Filler = null;
                        slot.Signal();
                        stopped = true;
                        return;
                    }

                    mirror = slot.Mirror;
                }

                DeleteInBackground(extra);
                if (stale is not null)
                {
                    Add(slot, await UpdateAsync(stale, slot.Branch), target!);
                    continue;
                }

                for (var i = 0; i < start; i++)
                {
                    creating.Add((CreateAsync(mirror, slot.Branch), target!));
                }

                var done = await Task.WhenAny(creating.Select(c => c.Made));
                var finished = creating.Single(c => c.Made == done);
                creating.Remove(finished);
                Add(slot, await done, finished.Target);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or OperationCanceledException or ObjectDisposedException)
        {
            // Only a speed-up: a run without a warm checkout clones as before; the next fetch retries.
            _logger.LogDebug(ex, "Could not prepare a warm checkout of {Repo} {Branch}", slot.Repo, slot.Branch);
        }
        finally
        {
            if (!stopped)
            {
                // Whatever ended the filler: checkouts still being made are not kept (their folders
                // go), and a waiting run must learn that nothing is coming.
                foreach (var (made, _) in creating)
                {
                    try
                    {
                        DeleteInBackground([(await made).Directory]);
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or OperationCanceledException or ObjectDisposedException)
                    {
                        // CreateAsync removed its own folder.
                    }
                }

                lock (slot)
                {
                    slot.Filler = null;
                    slot.Signal();
                }
            }
        }
    }

    /// <summary>A checkout the filler made or updated joins the ready ones (waiting runs are woken).</summary>
    private void Add(Slot slot, Warm made, string target)
    {
        lock (slot)
        {
            if (_disposed)
            {
                DeleteInBackground([made.Directory]);
            }
            else
            {
                slot.Ready.Add(made);
            }

            if (made.Commit != target && slot.Target == target)
            {
                // The mirror is not where the last fetch left it (moved again, or rewound):
                // follow what it holds instead of updating the same checkout forever.
                slot.Target = made.Commit;
            }

            slot.Signal();
        }

        _logger.LogDebug("Warm checkout of {Repo} {Branch} ready at {Commit}", slot.Repo, slot.Branch, made.Commit);
    }

    /// <summary>A new clone sharing the mirror's objects, checked out (detached) at the base branch's tip as the clone saw it.</summary>
    private async Task<Warm> CreateAsync(string mirror, string branch)
    {
        var ct = _stopping.Token;
        var dir = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        try
        {
            await Git.RunCheckedAsync(["clone", "--shared", "--no-checkout", "--quiet", mirror, dir], null, ct);
            var local = await Git.RunAsync(["symbolic-ref", "--quiet", "HEAD"], dir, ct);
            var commit = await CheckOutBaseAsync(dir, branch, ct);
            return new Warm(dir, commit, local.ExitCode == 0 ? local.StdOut.Trim() : null);
        }
        catch
        {
            TryDelete(dir);
            throw;
        }
    }

    /// <summary>
    /// Brings a checkout to the base branch's new tip: its refs from the mirror (the local branch
    /// its clone made included, as a fresh clone would have it), then a checkout that rewrites only
    /// the files that changed.
    /// </summary>
    private async Task<Warm> UpdateAsync(Warm warm, string branch)
    {
        var ct = _stopping.Token;
        try
        {
            List<string> fetch = ["fetch", "--prune", "--quiet", "origin", "+refs/heads/*:refs/remotes/origin/*"];
            if (warm.LocalBranchRef is not null)
            {
                fetch.Add($"+{warm.LocalBranchRef}:{warm.LocalBranchRef}");
            }

            await Git.RunCheckedAsync(fetch, warm.Directory, ct);
            var commit = await CheckOutBaseAsync(warm.Directory, branch, ct);
            return warm with { Commit = commit };
        }
        catch
        {
            TryDelete(warm.Directory);
            throw;
        }
    }

    private static async Task<string> CheckOutBaseAsync(string dir, string branch, CancellationToken ct)
    {
        var commit = (await Git.RunCheckedAsync(["rev-parse", "--verify", $"refs/remotes/origin/{branch}^{{commit}}"], dir, ct)).Trim();
        await Git.RunCheckedAsync([.. SandboxPreparer.ParallelCheckout, "checkout", "--quiet", "--force", "--detach", commit], dir, ct);
        return commit;
    }

    private static bool MoveTo(Warm warm, string target)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any())
            {
                Directory.Delete(target);
            }

            Directory.Move(warm.Directory, target);
            return true;
        }
        catch (IOException)
        {
            TryDelete(warm.Directory);
            return false;
        }
    }

    /// <summary>Pools nobody asked for during <c>Sandbox:IdleTimeout</c> give their checkouts back (disk stays bounded).</summary>
    private void SweepIdle()
    {
        var idleSince = _time.GetUtcNow() - _options.CurrentValue.IdleTimeout;
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (slot.LastUsed >= idleSince || slot.Filler is not null || slot.Waiters > 0)
                {
                    continue;
                }

                _slots.TryRemove(key, out _);
                slot.Removed = true;
                DeleteInBackground(slot.Ready.Select(w => w.Directory).ToList());
                slot.Ready.Clear();
                slot.Target = null;
            }
        }
    }

    private static void DeleteInBackground(List<string> dirs)
    {
        if (dirs.Count > 0)
        {
            _ = Task.Run(() => dirs.ForEach(TryDelete));
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            SandboxFolders.Delete(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
