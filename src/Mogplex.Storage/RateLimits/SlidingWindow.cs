namespace Mogplex.Storage;

/// <summary>Pure sliding-window arithmetic shared by providers.</summary>
public static class SlidingWindow
{
    /// <summary>
    /// Decides one window given the hit times inside it (oldest first). With <c>count</c> hits and a
    /// limit <c>L</c>, a new hit fits once <c>count - L + 1</c> hits have left: the hit at index
    /// <c>count - L</c> is the one to wait for.
    /// </summary>
    public static RateLimitDecision Decide(RateWindow window, IReadOnlyList<long> hitsInWindowMs, long nowMs)
    {
        var count = hitsInWindowMs.Count;
        var windowMs = (long)window.Window.TotalMilliseconds;
        var reset = count == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, hitsInWindowMs[0] + windowMs - nowMs));
        if (count < window.Limit)
        {
            return new RateLimitDecision(true, window, window.Limit - count - 1, TimeSpan.Zero, reset);
        }

        var waitFor = hitsInWindowMs[count - window.Limit];
        var retryMs = waitFor + windowMs - nowMs;
        var retry = TimeSpan.FromSeconds(Math.Max(1, (long)Math.Ceiling(retryMs / 1000.0)));
        return new RateLimitDecision(false, window, 0, retry, reset);
    }
}
