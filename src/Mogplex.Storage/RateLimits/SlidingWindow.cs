namespace Mogplex.Storage;

/// <summary>Pure sliding-window arithmetic shared by providers.</summary>
public static class SlidingWindow
{
    /// <summary>
    /// Decides one window from what the provider read: the number of hits inside it, the oldest of
    /// them, and (only when full) the hit to wait for. With <c>count</c> hits and a limit <c>L</c>, a
    /// new hit fits once <c>count - L + 1</c> hits have left: the hit at index <c>count - L</c>
    /// (oldest first) is the one to wait for; Retry-After is whole seconds, at least one.
    /// </summary>
    public static RateLimitDecision Decide(RateWindow window, long count, long? oldestMs, long? waitForMs, long nowMs)
    {
        var windowMs = (long)window.Window.TotalMilliseconds;
        var reset = oldestMs is null ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(0, oldestMs.Value + windowMs - nowMs));
        if (count < window.Limit)
        {
            return new RateLimitDecision(true, window, (int)Math.Min(int.MaxValue, window.Limit - count - 1), TimeSpan.Zero, reset);
        }

        var retryMs = (waitForMs ?? nowMs) + windowMs - nowMs;
        var retry = TimeSpan.FromSeconds(Math.Max(1, (long)Math.Ceiling(retryMs / 1000.0)));
        return new RateLimitDecision(false, window, 0, retry, reset);
    }
}
