using System.Net;
using Mogplex.Server.Auth;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary>Authentication (one 401 for every bad token) and scopes (403 per route).</summary>
public sealed class AuthTests
{
    private static readonly string[] s_getRoutes = ["/repos", "/runs", "/runs/{run}", "/runs/{run}/events", "/sandboxes", "/sandboxes/{sandbox}/logs"];

    private static readonly string[] s_postRoutes = ["/runs", "/runs/{run}/cancel", "/sandboxes", "/sandboxes/{sandbox}/stop"];

    private static readonly string[] s_badAuthorizationHeaders =
    [
        "",
        "Basic YWRtaW46YWRtaW4=",
        "Token mog_0123456789abcdefghijABCDEFGHIJkl",
        "Bearer",
        "Bearer ",
        "Bearer abc",
        "Bearer mog_short",
        "Bearer mog_0123456789abcdefghijABCDEFGHIJk!",
        "Bearer mog_0123456789abcdefghijABCDEFGHIJklm",
        "Bearer xyz_0123456789abcdefghijABCDEFGHIJkl",
        "Bearer mog_0123456789abcdefghijABCDEFGHIJkl",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task AnyRoute_MissingOrBadAuthorizationHeader_401WithBearerChallenge()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var run = await server.StartRunAsync(server.Client(token), repo);
        var sandbox = await server.CreateSandboxAsync(server.Client(token), repo);
        var routes = s_getRoutes.Select(r => (HttpMethod.Get, r)).Concat(s_postRoutes.Select(r => (HttpMethod.Post, r)));

        // A real token with a wrong scheme, or with an extra character, is as bad as none.
        string[] headers = [.. s_badAuthorizationHeaders, "Basic " + token, token, "Bearer " + token + "x", "Bearer  x" + token];

        await Cases.CheckAllAsync(headers.SelectMany(h => routes.Select(r => (Header: h, r.Item1, r.Item2))), async c =>
        {
            var auth = c.Header.Length == 0 ? null : new Dictionary<string, string> { ["Authorization"] = c.Header };
            var reply = await ApiClient.SendAsync(client, c.Item2, Fill(c.Item3, run, sandbox), c.Item2 == HttpMethod.Post ? "{}" : null, auth);
            ApiAssert.Unauthorized(reply);
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_LowercaseBearerScheme_Accepted()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();

        var reply = await ApiClient.SendAsync(server.Client(), HttpMethod.Get, "/repos", headers: new Dictionary<string, string> { ["Authorization"] = "bearer " + token });

        ApiAssert.Ok(reply);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_Expired_401FromTheMomentOfExpiry()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync(expiresAt: ServerFixture.Epoch.AddHours(1));
        var client = server.Client(token);

        ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"));
        server.Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMilliseconds(1));
        ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"));
        server.Time.Advance(TimeSpan.FromMilliseconds(1));
        ApiAssert.Unauthorized(await ApiClient.GetAsync(client, "/repos"));
        server.Time.Advance(TimeSpan.FromDays(3));
        ApiAssert.Unauthorized(await ApiClient.PostAsync(client, "/runs", "{}"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_Revoked_401OnEveryRoute()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var client = server.Client(token);
        var run = await server.StartRunAsync(client, repo);
        var sandbox = await server.CreateSandboxAsync(client, repo);
        ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"));

        var record = await server.TokenRecordAsync(token);
        Assert.True(await server.Store.Tokens.RevokeTokenAsync(record.Id, server.Time.GetUtcNow(), ServerFixture.Ct));

        foreach (var path in s_getRoutes)
        {
            ApiAssert.Unauthorized(await ApiClient.GetAsync(client, Fill(path, run, sandbox)));
        }

        foreach (var path in s_postRoutes)
        {
            ApiAssert.Unauthorized(await ApiClient.PostAsync(client, Fill(path, run, sandbox), $$"""{"repoId":"{{repo}}","prompt":"x"}"""));
        }

        // Nothing happened behind the 401s.
        Assert.Equal("pending", (await server.Store.Runs.GetRunAsync(run, null, ServerFixture.Ct))!.Status);
        Assert.Equal("creating", (await server.Store.Sandboxes.GetAsync(sandbox, null, ServerFixture.Ct))!.Status);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_ValidRequest_SetsLastUsedAt()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        Assert.Null((await server.TokenRecordAsync(token)).LastUsedAt);
        server.Time.Advance(TimeSpan.FromMinutes(5));

        ApiAssert.Ok(await ApiClient.GetAsync(server.Client(token), "/repos"));

        Assert.Equal(server.Time.GetUtcNow(), (await server.TokenRecordAsync(token)).LastUsedAt);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_UnknownOrRevoked_DoesNotTouchLastUsedAt()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var record = await server.TokenRecordAsync(token);
        await server.Store.Tokens.RevokeTokenAsync(record.Id, server.Time.GetUtcNow(), ServerFixture.Ct);

        ApiAssert.Unauthorized(await ApiClient.GetAsync(server.Client(token), "/repos"));

        Assert.Null((await server.TokenRecordAsync(token)).LastUsedAt);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ReadOnlyToken_EveryPostRoute_403MissingWrite_AndNothingChanges()
    {
        await using var server = await ServerFixture.StartAsync();
        var full = server.Client(await server.CreateTokenAsync());
        var readOnly = server.Client(await server.CreateTokenAsync(scopes: "read"));
        var repo = await server.CreateRepoAsync();
        var run = await server.StartRunAsync(full, repo);
        var sandbox = await server.CreateSandboxAsync(full, repo);

        foreach (var path in s_postRoutes)
        {
            var reply = await ApiClient.PostAsync(readOnly, Fill(path, run, sandbox), $$"""{"repoId":"{{repo}}","prompt":"x"}""", new Dictionary<string, string> { ["Idempotency-Key"] = "k1" });
            ApiAssert.Error(reply, HttpStatusCode.Forbidden, "FORBIDDEN", "Missing required scope: write");
        }

        // The same token may read.
        foreach (var path in s_getRoutes)
        {
            ApiAssert.Ok(await ApiClient.GetAsync(readOnly, Fill(path, run, sandbox)));
        }

        Assert.Equal("pending", (await server.Store.Runs.GetRunAsync(run, null, ServerFixture.Ct))!.Status);
        Assert.Equal("creating", (await server.Store.Sandboxes.GetAsync(sandbox, null, ServerFixture.Ct))!.Status);
        var runs = ApiAssert.Ok(await ApiClient.GetAsync(full, "/runs")).GetProperty("runs");
        Assert.Equal(1, runs.GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task WriteOnlyToken_EveryGetRoute_403MissingRead()
    {
        await using var server = await ServerFixture.StartAsync();
        var writeOnly = server.Client(await server.CreateTokenAsync(scopes: "write"));
        var repo = await server.CreateRepoAsync();

        // write does not imply read, but it may start runs and sandboxes.
        var run = await server.StartRunAsync(writeOnly, repo);
        var sandbox = await server.CreateSandboxAsync(writeOnly, repo);

        foreach (var path in s_getRoutes)
        {
            var reply = await ApiClient.GetAsync(writeOnly, Fill(path, run, sandbox));
            ApiAssert.Error(reply, HttpStatusCode.Forbidden, "FORBIDDEN", "Missing required scope: read");
        }
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task Token_WellFormedButUnknown_401AndNoRateLimitBucket()
    {
        await using var server = await ServerFixture.StartAsync();
        var unknown = AccessTokens.Generate();

        var reply = await ApiClient.GetAsync(server.Client(unknown), "/repos");

        ApiAssert.Unauthorized(reply);
        Assert.Null(reply.Header("RateLimit-Limit"));
    }

    private static string Fill(string path, string run, string sandbox) => path.Replace("{run}", run, StringComparison.Ordinal).Replace("{sandbox}", sandbox, StringComparison.Ordinal);
}
