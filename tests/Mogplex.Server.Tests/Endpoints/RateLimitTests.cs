using System.Globalization;
using System.Net;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary>Per-token request limit (60 per sliding 60 s) and run-start limits (minute, hour, day).</summary>
public sealed class RateLimitTests
{
    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Requests_61stWithinWindow_429WithExactRetryAfter_DeniedDoNotCount()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        // One request at t0, 59 at t0+30s: the window is full and its oldest hit leaves at t0+60s.
        AssertHeaders(await ApiClient.GetAsync(client, "/repos"), remaining: 59);
        server.Time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 2; i <= 60; i++)
        {
            AssertHeaders(await ApiClient.GetAsync(client, "/repos"), remaining: 60 - i);
        }

        for (var i = 0; i < 5; i++)
        {
            var denied = await ApiClient.GetAsync(client, "/repos");
            ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 30s.");
            Assert.Equal("30", denied.Header("Retry-After"));
            Assert.Equal("60", denied.Header("RateLimit-Limit"));
            Assert.Equal("0", denied.Header("RateLimit-Remaining"));
            Assert.Equal("30", denied.Header("RateLimit-Reset"));
        }

        // A partial second rounds up.
        server.Time.Advance(TimeSpan.FromSeconds(29.5));
        var almost = await ApiClient.GetAsync(client, "/repos");
        ApiAssert.Error(almost, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 1s.");
        Assert.Equal("1", almost.Header("Retry-After"));

        // At t0+60s the first hit has left: exactly one slot is free (the denied requests were not counted).
        server.Time.Advance(TimeSpan.FromSeconds(0.5));
        AssertHeaders(await ApiClient.GetAsync(client, "/repos"), remaining: 0);
        var full = await ApiClient.GetAsync(client, "/repos");
        ApiAssert.Error(full, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 30s.");
        Assert.Equal("30", full.Header("Retry-After"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Requests_LimitIsPerToken_OtherTokenUnaffected()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RequestsPerWindow"] = "3" });
        var a = server.Client(await server.CreateTokenAsync());
        var b = server.Client(await server.CreateTokenAsync());

        for (var i = 0; i < 3; i++)
        {
            ApiAssert.Ok(await ApiClient.GetAsync(a, "/repos"));
        }

        ApiAssert.Error(await ApiClient.GetAsync(a, "/runs"), HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Rate limit exceeded. Retry after 60s.");
        var other = await ApiClient.GetAsync(b, "/repos");
        ApiAssert.Ok(other);
        Assert.Equal("3", other.Header("RateLimit-Limit"));
        Assert.Equal("2", other.Header("RateLimit-Remaining"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Requests_BadTokens_DoNotCount()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RequestsPerWindow"] = "2" });
        var token = await server.CreateTokenAsync();
        var anonymous = server.Client();
        for (var i = 0; i < 10; i++)
        {
            ApiAssert.Unauthorized(await ApiClient.GetAsync(anonymous, "/repos"));
            ApiAssert.Unauthorized(await ApiClient.SendAsync(anonymous, HttpMethod.Get, "/repos", headers: new Dictionary<string, string> { ["Authorization"] = "Bearer " + token[..^1] + (token[^1] == 'a' ? 'b' : 'a') }));
        }

        var reply = await ApiClient.GetAsync(server.Client(token), "/repos");

        ApiAssert.Ok(reply);
        Assert.Equal("1", reply.Header("RateLimit-Remaining"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Requests_ForbiddenAndNotFound_StillCarryRateLimitHeaders()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync(scopes: "read"));

        var forbidden = await ApiClient.PostAsync(client, "/sandboxes", "{}");
        var missing = await ApiClient.GetAsync(client, "/runs/abc");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);
        Assert.Equal("59", forbidden.Header("RateLimit-Remaining"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("58", missing.Header("RateLimit-Remaining"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_11thWithinMinute_429NamingMinuteWindow()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromSeconds(20));
        for (var i = 2; i <= 10; i++)
        {
            await server.StartRunAsync(client, repo);
        }

        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "one too many" });

        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (10 per minute). Retry after 40s.");
        AssertRefusedBy(denied, limit: 10, retryAfter: 40);
        Assert.Equal(10, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());

        // Once the first start has left the minute window, one more start fits.
        server.Time.Advance(TimeSpan.FromSeconds(40));
        await server.StartRunAsync(client, repo);
        ApiAssert.Error(
            await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "again" }),
            HttpStatusCode.TooManyRequests,
            "RATE_LIMITED",
            "Run start limit exceeded (10 per minute). Retry after 20s.");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_429_CarriesTheRunStartWindowsHeaders_OtherAnswersTheRequestWindows()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RunStartsPerMinute"] = "2" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        // Accepted starts describe the request window (60 per 60 s), as every other answer does.
        var started = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "one" });
        Assert.Equal(HttpStatusCode.Accepted, started.Status);
        Assert.Equal("60", started.Header("RateLimit-Limit"));
        Assert.Equal("59", started.Header("RateLimit-Remaining"));
        server.Time.Advance(TimeSpan.FromSeconds(15));
        await server.StartRunAsync(client, repo);

        // The refusal describes the minute window of run starts that refused it, not the request window.
        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "three" });
        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (2 per minute). Retry after 45s.");
        AssertRefusedBy(denied, limit: 2, retryAfter: 45);

        // The next request is counted by the request window again (the refused start counted there too).
        var listed = await ApiClient.GetAsync(client, "/runs");
        ApiAssert.Ok(listed);
        Assert.Equal("60", listed.Header("RateLimit-Limit"));
        Assert.Equal("56", listed.Header("RateLimit-Remaining"));
        Assert.Null(listed.Header("Retry-After"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_HourWindow_AppliesWhenMinuteIsRaised()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:RequestsPerWindow"] = "1000",
            ["RateLimits:RunStartsPerMinute"] = "1000",
            ["RateLimits:RunStartsPerHour"] = "3",
        });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromMinutes(10));
        await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromMinutes(10));
        await server.StartRunAsync(client, repo);

        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "fourth" });

        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (3 per hour). Retry after 2400s.");
        AssertRefusedBy(denied, limit: 3, retryAfter: 2400);
        server.Time.Advance(TimeSpan.FromMinutes(40));
        await server.StartRunAsync(client, repo);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_DayWindow_AppliesWhenMinuteAndHourAreRaised()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:RequestsPerWindow"] = "1000",
            ["RateLimits:RunStartsPerMinute"] = "1000",
            ["RateLimits:RunStartsPerHour"] = "1000",
            ["RateLimits:RunStartsPerDay"] = "3",
        });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromHours(2));
        await server.StartRunAsync(client, repo);
        server.Time.Advance(TimeSpan.FromHours(2));
        await server.StartRunAsync(client, repo);

        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "fourth" });

        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (3 per day). Retry after 72000s.");
        AssertRefusedBy(denied, limit: 3, retryAfter: 72000);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_AllWindowsFull_MinuteIsReportedFirst()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimits:RunStartsPerMinute"] = "2",
            ["RateLimits:RunStartsPerHour"] = "2",
            ["RateLimits:RunStartsPerDay"] = "2",
        });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        await server.StartRunAsync(client, repo);
        await server.StartRunAsync(client, repo);

        var denied = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "third" });

        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (2 per minute). Retry after 60s.");
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_ReplaysAndInvalidRequests_DoNotConsumeBudget()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RunStartsPerMinute"] = "2" });
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var body = new { repoId = repo, prompt = "Fix the build" };

        ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "key-1"), HttpStatusCode.Accepted);
        for (var i = 0; i < 3; i++)
        {
            var replay = ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "key-1"), HttpStatusCode.Accepted);
            Assert.True(replay.GetProperty("replayed").GetBoolean());
            Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.StartRunAsync(client, new { repoId = repo }, "key-x")).Status);
            Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "nope" })).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.StartRunAsync(client, new { repoId = Guid.NewGuid(), prompt = "x" })).Status);
            Assert.Equal(HttpStatusCode.Conflict, (await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "different" }, "key-1")).Status);
            Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(client, "/runs", "{\"repoId\":\"" + repo + "\",\"prompt\":\"x\"}")).Status);
        }

        ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "key-2"), HttpStatusCode.Accepted);
        var denied = await ApiClient.StartRunAsync(client, body, "key-3");
        ApiAssert.Error(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (2 per minute). Retry after 60s.");

        // A replay still answers while the start budget is exhausted.
        var late = ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "key-1"), HttpStatusCode.Accepted);
        Assert.True(late.GetProperty("replayed").GetBoolean());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task RunStarts_BudgetIsPerToken()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RunStartsPerMinute"] = "1" });
        var repo = await server.CreateRepoAsync();
        var first = server.Client(await server.CreateTokenAsync());
        var second = server.Client(await server.CreateTokenAsync());

        await server.StartRunAsync(first, repo);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await ApiClient.StartRunAsync(first, new { repoId = repo, prompt = "x" })).Status);
        await server.StartRunAsync(second, repo);
    }

    /// <summary>A 429 described by the window that refused it: its limit, nothing left, and a reset equal to Retry-After.</summary>
    private static void AssertRefusedBy(ApiClient.Reply reply, int limit, int retryAfter)
    {
        var seconds = retryAfter.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(seconds, reply.Header("Retry-After"));
        Assert.Equal(limit.ToString(CultureInfo.InvariantCulture), reply.Header("RateLimit-Limit"));
        Assert.Equal("0", reply.Header("RateLimit-Remaining"));
        Assert.Equal(seconds, reply.Header("RateLimit-Reset"));
    }

    /// <summary>
    /// An allowed request: limit and remaining exact; reset a whole number of seconds within the
    /// window (how soon depends on which hit the limiter sees as oldest, so only bounded here).
    /// </summary>
    private static void AssertHeaders(ApiClient.Reply reply, int remaining)
    {
        ApiAssert.Ok(reply);
        Assert.Equal("60", reply.Header("RateLimit-Limit"));
        Assert.Equal(remaining.ToString(CultureInfo.InvariantCulture), reply.Header("RateLimit-Remaining"));
        Assert.InRange(int.Parse(reply.Header("RateLimit-Reset")!, NumberStyles.None, CultureInfo.InvariantCulture), 0, 60);
    }
}
