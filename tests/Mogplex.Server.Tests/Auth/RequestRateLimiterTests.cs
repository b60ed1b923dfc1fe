using System.Net;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Auth;

/// <summary>The per-token limit with write-behind counting: exact at the limit, nothing lost behind it.</summary>
public sealed class RequestRateLimiterTests
{
    [Fact]
    public async Task Requests_SixtyAllowed_SixtyFirstDeniedWithExactRetryAfter()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        for (var i = 0; i < 60; i++)
        {
            var ok = await ApiClient.GetAsync(client, "/repos");
            Assert.Equal(HttpStatusCode.OK, ok.Status);
            Assert.Equal((59 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), ok.Header("RateLimit-Remaining"));
            if (i == 0)
            {
                server.Time.Advance(TimeSpan.FromSeconds(20));
            }
        }

        var denied = await ApiClient.GetAsync(client, "/repos");

        Assert.Equal(HttpStatusCode.TooManyRequests, denied.Status);
        Assert.Equal("RATE_LIMITED", denied.ErrorCode);
        Assert.Equal("Rate limit exceeded. Retry after 40s.", denied.ErrorMessage);
        Assert.Equal("40", denied.Header("Retry-After"));

        server.Time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(client, "/repos")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await ApiClient.GetAsync(client, "/repos")).Status);
    }

    [Fact]
    public async Task Requests_AllowedOnEstimate_AreWrittenToTheStoreBehind()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var client = server.Client(token);
        for (var i = 0; i < 25; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await ApiClient.GetAsync(client, "/repos")).Status);
        }

        var tokenId = (await server.Store.Tokens.FindTokenByHashAsync(Mogplex.Server.Auth.AccessTokens.Hash(token), ServerFixture.Ct))!.Id;
        var window = new RateWindow("request", 60, TimeSpan.FromSeconds(60));
        await Waits.UntilAsync(
            () => server.Store.RateLimits.RecordHitsAsync("req:" + tokenId, window, [], server.Time.GetUtcNow(), ServerFixture.Ct),
            n => n == 25,
            TimeSpan.FromSeconds(10),
            "the store to hold all 25 hits");
    }
}
