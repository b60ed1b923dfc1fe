using Mogplex.Storage;

namespace Mogplex.Storage.Tests;

public sealed class SlidingWindowMathTests
{
    private static readonly RateWindow s_threePerMinute = new("minute", 3, TimeSpan.FromSeconds(60));

    [Fact]
    public void Decide_UnderLimit_AllowsWithRemainingAfterThisHit()
    {
        var d = SlidingWindow.Decide(s_threePerMinute, [1_000], 2_000);
        Assert.True(d.Allowed);
        Assert.Equal(1, d.Remaining);
        Assert.Equal(TimeSpan.FromMilliseconds(59_000), d.Reset);
    }

    [Fact]
    public void Decide_Full_RetryAfterIsWhenOldestLeaves()
    {
        var d = SlidingWindow.Decide(s_threePerMinute, [0, 10_000, 20_000], 30_000);
        Assert.False(d.Allowed);
        Assert.Equal(0, d.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(30), d.RetryAfter);
        Assert.Same(s_threePerMinute, d.Window);
    }

    [Fact]
    public void Decide_PartialSecond_RoundsUpAndNeverBelowOne()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), SlidingWindow.Decide(s_threePerMinute, [0, 1, 2], 30_001).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), SlidingWindow.Decide(s_threePerMinute, [0, 1, 2], 59_999).RetryAfter);
    }

    [Fact]
    public void Decide_OverLimitAfterLimitLowered_WaitsForEnoughHitsToLeave()
    {
        // Five hits counted under an older, higher limit; with limit 3 the third-oldest must leave.
        var d = SlidingWindow.Decide(s_threePerMinute, [0, 5_000, 10_000, 15_000, 20_000], 30_000);
        Assert.False(d.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(40), d.RetryAfter);
    }
}
