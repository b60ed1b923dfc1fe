namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    private static TokenRecord NewToken(string userId, DateTimeOffset createdAt, string name = "laptop", IReadOnlyList<string>? scopes = null, DateTimeOffset? expiresAt = null) =>
        new(NewId(), userId, name, "mgp_abcd", scopes ?? ["runs:read", "runs:write"], createdAt, expiresAt, null, null);

    [Fact]
    public async Task FindTokenByHash_AddedToken_RoundtripsEveryField()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var token = NewToken(user.Id, Now, "ci", ["admin", "runs:read", "repos:write"], Start.AddDays(30));

        await store.Tokens.AddTokenAsync(token, "hash-ci", Ct);
        var found = await store.Tokens.FindTokenByHashAsync("hash-ci", Ct);

        Assert.NotNull(found);
        Assert.Equal(token.Id, found.Id);
        Assert.Equal(user.Id, found.UserId);
        Assert.Equal("ci", found.Name);
        Assert.Equal("mgp_abcd", found.Prefix);
        Assert.Equal(["admin", "runs:read", "repos:write"], found.Scopes);
        Assert.Equal(Start, found.CreatedAt);
        Assert.Equal(Start.AddDays(30), found.ExpiresAt);
        Assert.Null(found.LastUsedAt);
        Assert.Null(found.RevokedAt);
    }

    [Fact]
    public async Task FindTokenByHash_UnknownHash_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        await store.Tokens.AddTokenAsync(NewToken(user.Id, Now), "hash-a", Ct);

        Assert.Null(await store.Tokens.FindTokenByHashAsync("hash-b", Ct));
    }

    [Fact]
    public async Task FindTokenByHash_SingleScope_RoundtripsAsOneScope()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        await store.Tokens.AddTokenAsync(NewToken(user.Id, Now, scopes: ["runs:read"]), "hash-a", Ct);

        var found = await store.Tokens.FindTokenByHashAsync("hash-a", Ct);

        Assert.Equal(["runs:read"], found!.Scopes);
        Assert.Null(found.ExpiresAt);
    }

    [Fact]
    public async Task ListTokens_AllUsers_NewestFirst()
    {
        var store = await CreateStoreAsync();
        var alice = await store.Users.AddUserAsync("alice", Now, Ct);
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        var first = NewToken(alice.Id, Now, "first");
        var second = NewToken(bob.Id, Now.AddMinutes(1), "second");
        var third = NewToken(alice.Id, Now.AddMinutes(2), "third");
        await store.Tokens.AddTokenAsync(second, "h2", Ct);
        await store.Tokens.AddTokenAsync(third, "h3", Ct);
        await store.Tokens.AddTokenAsync(first, "h1", Ct);

        var tokens = await store.Tokens.ListTokensAsync(null, Ct);

        Assert.Equal(["third", "second", "first"], tokens.Select(t => t.Name));
    }

    [Fact]
    public async Task ListTokens_ForUser_OnlyThatUsersTokensNewestFirst()
    {
        var store = await CreateStoreAsync();
        var alice = await store.Users.AddUserAsync("alice", Now, Ct);
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        await store.Tokens.AddTokenAsync(NewToken(alice.Id, Now, "a-old"), "h1", Ct);
        await store.Tokens.AddTokenAsync(NewToken(bob.Id, Now.AddMinutes(1), "b"), "h2", Ct);
        await store.Tokens.AddTokenAsync(NewToken(alice.Id, Now.AddMinutes(2), "a-new"), "h3", Ct);

        var aliceTokens = await store.Tokens.ListTokensAsync(alice.Id, Ct);
        var bobTokens = await store.Tokens.ListTokensAsync(bob.Id, Ct);

        Assert.Equal(["a-new", "a-old"], aliceTokens.Select(t => t.Name));
        Assert.All(aliceTokens, t => Assert.Equal(alice.Id, t.UserId));
        Assert.Equal("b", Assert.Single(bobTokens).Name);
    }

    [Fact]
    public async Task RevokeToken_Active_SetsRevokedAtAndReturnsTrue()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var token = NewToken(user.Id, Now);
        await store.Tokens.AddTokenAsync(token, "hash-a", Ct);
        Time.Advance(TimeSpan.FromMinutes(5));

        var revoked = await store.Tokens.RevokeTokenAsync(token.Id, Now, Ct);

        Assert.True(revoked);
        Assert.Equal(Start.AddMinutes(5), (await store.Tokens.FindTokenByHashAsync("hash-a", Ct))!.RevokedAt);
    }

    [Fact]
    public async Task RevokeToken_Twice_ReturnsTrueAndKeepsFirstTime()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var token = NewToken(user.Id, Now);
        await store.Tokens.AddTokenAsync(token, "hash-a", Ct);
        Time.Advance(TimeSpan.FromMinutes(5));
        await store.Tokens.RevokeTokenAsync(token.Id, Now, Ct);
        Time.Advance(TimeSpan.FromMinutes(5));

        var again = await store.Tokens.RevokeTokenAsync(token.Id, Now, Ct);

        Assert.True(again);
        Assert.Equal(Start.AddMinutes(5), (await store.Tokens.FindTokenByHashAsync("hash-a", Ct))!.RevokedAt);
    }

    [Fact]
    public async Task RevokeToken_Unknown_ReturnsFalseAndTouchesNothing()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        await store.Tokens.AddTokenAsync(NewToken(user.Id, Now), "hash-a", Ct);

        Assert.False(await store.Tokens.RevokeTokenAsync(NewId(), Now, Ct));
        Assert.Null((await store.Tokens.FindTokenByHashAsync("hash-a", Ct))!.RevokedAt);
    }

    [Fact]
    public async Task TouchToken_Repeatedly_LastUsedAtFollowsLatestTouch()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var token = NewToken(user.Id, Now);
        var other = NewToken(user.Id, Now, "other");
        await store.Tokens.AddTokenAsync(token, "hash-a", Ct);
        await store.Tokens.AddTokenAsync(other, "hash-b", Ct);

        Time.Advance(TimeSpan.FromMinutes(1));
        await store.Tokens.TouchTokenAsync(token.Id, Now, Ct);
        Assert.Equal(Start.AddMinutes(1), (await store.Tokens.FindTokenByHashAsync("hash-a", Ct))!.LastUsedAt);

        Time.Advance(TimeSpan.FromMinutes(1));
        await store.Tokens.TouchTokenAsync(token.Id, Now, Ct);
        Assert.Equal(Start.AddMinutes(2), (await store.Tokens.FindTokenByHashAsync("hash-a", Ct))!.LastUsedAt);
        Assert.Null((await store.Tokens.FindTokenByHashAsync("hash-b", Ct))!.LastUsedAt);
    }
}
