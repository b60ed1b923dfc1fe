using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// Prepared checkouts waiting for runs: per (repo, base branch), a clone of the mirror checked out
/// at the base branch's current commit, made in the background after each fetch. A new sandbox
/// takes one (a directory move) instead of cloning and checking out on the run's critical path.
/// A checkout is only handed out for the exact commit it was made at, so a run never starts from
/// a stale base.
/// </summary>
public sealed class WarmCheckoutPool
{
    private readonly ServeSettings _settings;
    private readonly IOptionsMonitor<SandboxOptions> _options;
    private readonly ILogger<WarmCheckoutPool> _logger;

    public WarmCheckoutPool(ServeSettings settings, IOptionsMonitor<SandboxOptions> options, ILogger<WarmCheckoutPool> logger)
    {
        _settings = settings;
        _options = options;
        _logger = logger;

        // The pool lives in memory: checkouts a previous process left are of no use.
        TryDelete(Root);
    }

    private readonly ConcurrentDictionary<(string Repo, string Branch), ConcurrentQueue<Warm>> _pool = new();
    private readonly ConcurrentDictionary<(string Repo, string Branch), int> _filling = new();

    private sealed record Warm(string Directory, string Commit);

    private string Root => Path.Combine(_settings.DataDir, "sandboxes", ".warm");

    /// <summary>Moves a checkout made at <paramref name="commit"/> to <paramref name="target"/>; false when none is ready.</summary>
    public bool TryTake(string repoId, string baseBranch, string commit, string target)
    {
        if (!_pool.TryGetValue((repoId, baseBranch), out var queue))
        {
            return false;
        }

        while (queue.TryDequeue(out var warm))
        {
            if (warm.Commit == commit)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                Directory.Move(warm.Directory, target);
                return true;
            }

            TryDelete(warm.Directory);
        }

        return false;
    }

    /// <summary>Starts filling the pool for this base in the background (one filler per key at a time).</summary>
    public void Refill(string repoId, string baseBranch, string mirror)
    {
        var size = _options.CurrentValue.WarmCheckouts;
        var key = (repoId, baseBranch);
        if (size <= 0 || !_filling.TryAdd(key, 0))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var queue = _pool.GetOrAdd(key, _ => new ConcurrentQueue<Warm>());
                var commit = (await Git.RunCheckedAsync(["--git-dir", mirror, "rev-parse", "--verify", $"refs/heads/{baseBranch}^{{commit}}"], null, CancellationToken.None)).Trim();
                // Drop checkouts of an older commit; keep up to `size` of the current one.
                var keep = queue.Where(w => w.Commit == commit).ToList();
                while (queue.TryDequeue(out var old))
                {
                    if (!keep.Contains(old))
                    {
                        TryDelete(old.Directory);
                    }
                }

                foreach (var w in keep)
                {
                    queue.Enqueue(w);
                }

                while (queue.Count < size)
                {
                    var dir = Path.Combine(Root, Guid.NewGuid().ToString("N"));
                    await Git.RunCheckedAsync(["clone", "--shared", "--no-checkout", "--quiet", mirror, dir], null, CancellationToken.None);
                    await Git.RunCheckedAsync([.. SandboxPreparer.ParallelCheckout, "checkout", "--quiet", "--detach", commit], dir, CancellationToken.None);
                    queue.Enqueue(new Warm(dir, commit));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // Only a speed-up: a run without a warm checkout clones as before.
                _logger.LogDebug(ex, "Could not prepare a warm checkout of {Repo} {Branch}", repoId, baseBranch);
            }
            finally
            {
                _filling.TryRemove(key, out _);
            }
        });
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
