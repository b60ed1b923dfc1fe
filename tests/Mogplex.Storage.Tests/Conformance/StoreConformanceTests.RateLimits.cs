namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    private static readonly RateWindow s_threePerMinute = new("minute", 3, TimeSpan.FromSeconds(60));

    private Task<RateLimitDecision> HitAsync(IMogplexStore store, string bucket, DateTimeOffset at, params RateWindow[] windows) =>
        store.RateLimits.TryAcquireAsync(bucket, windows.Length == 0 ? [s_threePerMinute] : windows, at, Ct);

    [Fact]
    public async Task TryAcquire_UnderLimit_AllowedWithDecreasingRemaining()
    {
        var store = await CreateStoreAsync();

        var first = await HitAsync(store, "b", Start);
        var second = await HitAsync(store, "b", Start.AddSeconds(10));
        var third = await HitAsync(store, "b", Start.AddSeconds(20));

        Assert.True(first.Allowed && second.Allowed && third.Allowed);
        Assert.Equal([2, 1, 0], new[] { first, second, third }.Select(d => d.Remaining));
        Assert.Equal("minute", third.Window.Name);
        Assert.Equal(TimeSpan.Zero, third.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_FourthWithinWindow_DeniedUntilOldestLeaves()
    {
        var store = await CreateStoreAsync();
        await HitAsync(store, "b", Start);
        await HitAsync(store, "b", Start.AddSeconds(10));
        await HitAsync(store, "b", Start.AddSeconds(20));

        var denied = await HitAsync(store, "b", Start.AddSeconds(30.5));

        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(30), denied.RetryAfter);
        Assert.Equal("minute", denied.Window.Name);
    }

    [Fact]
    public async Task TryAcquire_OldestLeavesInUnderASecond_RetryAfterIsOneSecond()
    {
        var store = await CreateStoreAsync();
        await HitAsync(store, "b", Start);
        await HitAsync(store, "b", Start.AddSeconds(1));
        await HitAsync(store, "b", Start.AddSeconds(2));

        var denied = await HitAsync(store, "b", Start.AddSeconds(59.8));

        Assert.False(denied.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), denied.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_AfterOldestLeaves_AllowedAgain()
    {
        var store = await CreateStoreAsync();
        await HitAsync(store, "b", Start);
        await HitAsync(store, "b", Start.AddSeconds(10));
        await HitAsync(store, "b", Start.AddSeconds(20));

        Assert.False((await HitAsync(store, "b", Start.AddSeconds(59.999))).Allowed);
        var allowed = await HitAsync(store, "b", Start.AddSeconds(60));

        Assert.True(allowed.Allowed);
        Assert.Equal(0, allowed.Remaining);
    }

    [Fact]
    public async Task TryAcquire_DeniedHits_AreNotCounted()
    {
        var store = await CreateStoreAsync();
        await HitAsync(store, "b", Start);
        await HitAsync(store, "b", Start.AddSeconds(10));
        await HitAsync(store, "b", Start.AddSeconds(20));
        for (var i = 0; i < 5; i++)
        {
            Assert.False((await HitAsync(store, "b", Start.AddSeconds(30 + i))).Allowed);
        }

        // Had the denied hits at 30-34 s counted, the window would stay full until 90 s.
        Assert.True((await HitAsync(store, "b", Start.AddSeconds(60))).Allowed);
        var full = await HitAsync(store, "b", Start.AddSeconds(65));
        Assert.False(full.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(5), full.RetryAfter);
        Assert.True((await HitAsync(store, "b", Start.AddSeconds(70))).Allowed);
    }

    [Fact]
    public async Task TryAcquire_SeveralWindows_DenialNamesTheFullWindow()
    {
        var store = await CreateStoreAsync();
        var burst = new RateWindow("burst", 2, TimeSpan.FromSeconds(1));
        var minute = new RateWindow("minute", 3, TimeSpan.FromSeconds(60));

        Assert.True((await HitAsync(store, "b", Start, burst, minute)).Allowed);
        Assert.True((await HitAsync(store, "b", Start.AddSeconds(0.1), burst, minute)).Allowed);
        var burstDenied = await HitAsync(store, "b", Start.AddSeconds(0.2), burst, minute);
        Assert.True((await HitAsync(store, "b", Start.AddSeconds(2), burst, minute)).Allowed);
        var minuteDenied = await HitAsync(store, "b", Start.AddSeconds(3), burst, minute);

        Assert.False(burstDenied.Allowed);
        Assert.Equal("burst", burstDenied.Window.Name);
        Assert.Equal(TimeSpan.FromSeconds(1), burstDenied.RetryAfter);
        Assert.False(minuteDenied.Allowed);
        Assert.Equal("minute", minuteDenied.Window.Name);
        Assert.Equal(TimeSpan.FromSeconds(57), minuteDenied.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_SeveralFullWindows_FirstInOrderIsNamed()
    {
        var store = await CreateStoreAsync();
        var hour = new RateWindow("hour", 1, TimeSpan.FromHours(1));
        var tenSeconds = new RateWindow("ten-seconds", 1, TimeSpan.FromSeconds(10));
        await HitAsync(store, "b", Start, hour, tenSeconds);

        var hourFirst = await HitAsync(store, "b", Start.AddSeconds(1), hour, tenSeconds);
        var tenFirst = await HitAsync(store, "b", Start.AddSeconds(1), tenSeconds, hour);

        Assert.Equal("hour", hourFirst.Window.Name);
        Assert.Equal(TimeSpan.FromSeconds(3599), hourFirst.RetryAfter);
        Assert.Equal("ten-seconds", tenFirst.Window.Name);
        Assert.Equal(TimeSpan.FromSeconds(9), tenFirst.RetryAfter);
    }

    [Fact]
    public async Task TryAcquire_OtherBucket_CountedIndependently()
    {
        var store = await CreateStoreAsync();
        for (var i = 0; i < 3; i++)
        {
            await HitAsync(store, "user:alice", Start.AddSeconds(i));
        }

        var other = await HitAsync(store, "user:bob", Start.AddSeconds(5));
        var full = await HitAsync(store, "user:alice", Start.AddSeconds(5));

        Assert.True(other.Allowed);
        Assert.Equal(2, other.Remaining);
        Assert.False(full.Allowed);
    }

    [Fact]
    public async Task TryAcquire_ConcurrentHits_NeverMoreThanLimitAllowed()
    {
        var store = await CreateStoreAsync();
        var now = Now;
        var window = new RateWindow("minute", 5, TimeSpan.FromSeconds(60));

        var decisions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(
            () => store.RateLimits.TryAcquireAsync("b", [window], now, Ct), Ct)));

        Assert.Equal(5, decisions.Count(d => d.Allowed));
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.Equal(TimeSpan.FromSeconds(60), d.RetryAfter));
    }
}
