using Mogplex.Storage;

namespace Mogplex.Storage.Tests;

public sealed class SlidingWindowMathTests
{
    private static readonly RateWindow s_threePerMinute = new("minute", 3, TimeSpan.FromSeconds(60));

    [Fact]
    public void Decide_UnderLimit_AllowsWithRemainingAfterThisHit()
    {
        var d = SlidingWindow.Decide(s_threePerMinute, 1, 1_000, null, 2_000);
        Assert.True(d.Allowed);
        Assert.Equal(1, d.Remaining);
        Assert.Equal(TimeSpan.FromMilliseconds(59_000), d.Reset);
    }

    [Fact]
    public void Decide_Empty_AllowsWithZeroReset()
    {
        var d = SlidingWindow.Decide(s_threePerMinute, 0, null, null, 2_000);
        Assert.True(d.Allowed);
        Assert.Equal(2, d.Remaining);
        Assert.Equal(TimeSpan.Zero, d.Reset);
    }

    [Fact]
    public void Decide_Full_RetryAfterIsWhenTheHitToWaitForLeaves()
    {
        var d = SlidingWindow.Decide(s_threePerMinute, 3, 0, 0, 30_000);
        Assert.False(d.Allowed);
        Assert.Equal(0, d.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(30), d.RetryAfter);
        Assert.Same(s_threePerMinute, d.Window);
    }

    [Fact]
    public void Decide_PartialSecond_RoundsUpAndNeverBelowOne()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), SlidingWindow.Decide(s_threePerMinute, 3, 0, 0, 30_001).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), SlidingWindow.Decide(s_threePerMinute, 3, 0, 0, 59_999).RetryAfter);
    }

    [Fact]
    public void Decide_OverLimitAfterLimitLowered_WaitsForTheLaterHit()
    {
        // Five hits (0, 5, 10, 15, 20 s) counted under an older, higher limit: with limit 3 the
        // provider passes the hit at index 5 - 3 = 2 (10 s), which leaves at 70 s.
        var d = SlidingWindow.Decide(s_threePerMinute, 5, 0, 10_000, 30_000);
        Assert.False(d.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(40), d.RetryAfter);
    }
}
