using System.Collections.Concurrent;
using Mogplex.Storage;

namespace Mogplex.Server.Auth;

/// <summary>
/// The per-token request limit, counted in the store (so nodes sharing a database share it) but
/// without a database write on every request. Far from the limit, a request is allowed on this
/// node's estimate (the store's count at the last sync plus the hits allowed here since), and
/// the hits are written behind every 100 ms. Near the limit (within a margin of 10 or a tenth of
/// it) every request takes the exact path: pending hits are written, then the store decides in
/// one transaction, so the request that crosses the limit and its Retry-After are exact. The
/// estimate only ever over-counts (hits that left the window still count until the next sync),
/// which sends requests to the exact path early, never late. The estimate is exact only when this
/// node is the only one counting (the embedded SQLite store); with a store shared by several
/// nodes every request takes the exact path. See docs/decisions.md.
/// </summary>
public sealed class RequestRateLimiter : IAsyncDisposable
{
    private static readonly TimeSpan s_flushInterval = TimeSpan.FromMilliseconds(100);

    private readonly IMogplexStore _store;
    private readonly bool _writeBehind;
    private readonly TimeProvider _time;
    private readonly ILogger<RequestRateLimiter> _logger;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly PeriodicTimer _timer = new(s_flushInterval);
    private readonly Task _flusher;

    public RequestRateLimiter(IMogplexStore store, TimeProvider time, ILogger<RequestRateLimiter> logger)
    {
        _store = store;
        _writeBehind = store.ProviderName == "sqlite";
        _time = time;
        _logger = logger;
        _flusher = FlushLoopAsync();
    }

    public async Task<RateLimitDecision> AcquireAsync(string bucketKey, RateWindow window, CancellationToken ct)
    {
        var bucket = _buckets.GetOrAdd(bucketKey, _ => new Bucket(window));
        var now = _time.GetUtcNow();
        var margin = Math.Max(10, window.Limit / 10);
        lock (bucket)
        {
            var estimate = bucket.StoreCount + bucket.Flushing + bucket.Pending.Count;
            if (_writeBehind && bucket.Window == window && estimate + 1 + margin <= window.Limit)
            {
                bucket.Pending.Add(now);
                return new RateLimitDecision(true, window, (int)(window.Limit - estimate - 1), TimeSpan.Zero, window.Window);
            }
        }

        await bucket.Gate.WaitAsync(ct);
        try
        {
            if (_writeBehind)
            {
                // A shared store (PostgreSQL) never has pending hits: each request is counted by
                // TryAcquireAsync below, in the store, so the limit holds across nodes.
                await FlushAsync(bucketKey, bucket, ct);
            }

            var decision = await _store.RateLimits.TryAcquireAsync(bucketKey, [window], now, ct);
            lock (bucket)
            {
                bucket.Window = window;
                bucket.StoreCount = decision.Allowed ? window.Limit - decision.Remaining : window.Limit;
            }

            return decision;
        }
        finally
        {
            bucket.Gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _flusher;
        foreach (var (key, bucket) in _buckets)
        {
            try
            {
                await FlushAsync(key, bucket, CancellationToken.None);
            }
            catch (StorageUnavailableException ex)
            {
                _logger.LogWarning(ex, "Could not record rate-limit hits at shutdown");
            }
        }
    }

    /// <summary>Writes the hits allowed on the estimate; caller holds the bucket's gate.</summary>
    private async Task FlushAsync(string key, Bucket bucket, CancellationToken ct)
    {
        List<DateTimeOffset> hits;
        RateWindow window;
        lock (bucket)
        {
            // Hits being written stay in the estimate (as Flushing) until the store's count,
            // which includes them, replaces it: the estimate never dips during a flush.
            hits = bucket.Pending;
            bucket.Pending = [];
            bucket.Flushing = hits.Count;
            window = bucket.Window;
        }

        try
        {
            var count = await _store.RateLimits.RecordHitsAsync(key, window, hits, _time.GetUtcNow(), ct);
            lock (bucket)
            {
                bucket.StoreCount = count;
                bucket.Flushing = 0;
            }
        }
        catch
        {
            lock (bucket)
            {
                // Nothing allowed is lost: the hits go back for the next attempt.
                bucket.Pending.InsertRange(0, hits);
                bucket.Flushing = 0;
            }

            throw;
        }
    }

    private async Task FlushLoopAsync()
    {
        while (await _timer.WaitForNextTickAsync())
        {
            foreach (var (key, bucket) in _buckets)
            {
                bool pending;
                lock (bucket)
                {
                    pending = bucket.Pending.Count > 0;
                }

                if (!pending || !await bucket.Gate.WaitAsync(0))
                {
                    continue;
                }

                try
                {
                    await FlushAsync(key, bucket, CancellationToken.None);
                }
                catch (Exception ex) when (ex is StorageUnavailableException or InvalidOperationException)
                {
                    _logger.LogWarning(ex, "Could not record rate-limit hits; retrying");
                }
                finally
                {
                    bucket.Gate.Release();
                }
            }
        }
    }

    private sealed class Bucket(RateWindow window)
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public RateWindow Window { get; set; } = window;

        /// <summary>Hits of every node in the window at the last sync (an upper bound until the next).</summary>
        public long StoreCount { get; set; }

        /// <summary>Hits being written right now.</summary>
        public int Flushing { get; set; }

        /// <summary>Hits allowed here and not yet written.</summary>
        public List<DateTimeOffset> Pending { get; set; } = [];
    }
}
