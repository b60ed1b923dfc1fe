namespace Mogplex.Storage;

/// <summary>A sliding window: at most <paramref name="Limit"/> hits within <paramref name="Window"/>.</summary>
public sealed record RateWindow(string Name, int Limit, TimeSpan Window);

/// <summary>
/// The answer of a limiter. When denied, <see cref="Window"/> names the window that was full and
/// <see cref="RetryAfter"/> is when its oldest counted hit leaves it (at least one second).
/// </summary>
public sealed record RateLimitDecision(bool Allowed, RateWindow Window, int Remaining, TimeSpan RetryAfter, TimeSpan Reset);

/// <summary>
/// Sliding-window limits counted in the store, so that several nodes sharing the database share
/// the limits. Only allowed hits are counted.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>Checks every window in order; if all allow, counts one hit in the bucket.</summary>
    Task<RateLimitDecision> TryAcquireAsync(string bucket, IReadOnlyList<RateWindow> windows, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Records hits that a node already allowed (write-behind, see docs/decisions.md) and returns
    /// how many hits of every node the window holds afterwards.
    /// </summary>
    Task<long> RecordHitsAsync(string bucket, RateWindow window, IReadOnlyList<DateTimeOffset> hits, DateTimeOffset now, CancellationToken cancellationToken);
}
