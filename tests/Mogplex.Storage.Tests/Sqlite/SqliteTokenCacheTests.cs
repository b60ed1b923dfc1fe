using Mogplex.Storage.Sqlite;

namespace Mogplex.Storage.Tests.Sqlite;

/// <summary>The cached token lookup sees a revocation made by another store on the same file (another process) at once.</summary>
public sealed class SqliteTokenCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mogplex-token-cache-").FullName;

    [Fact]
    public async Task Revoke_ThroughAnotherStore_NextLookupSeesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(_dir, "mogplex.db");
        using var server = new SqliteMogplexStore(path);
        using var operatorStore = new SqliteMogplexStore(path);
        await server.MigrateAsync(ct);
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        var user = await server.Users.AddUserAsync("alice", now, ct);
        var token = new TokenRecord(Guid.NewGuid().ToString(), user.Id, "t", "mog_abcd", ["read"], now, null, null, null);
        await server.Tokens.AddTokenAsync(token, "hash-1", ct);

        Assert.Null((await server.Tokens.FindTokenByHashAsync("hash-1", ct))!.RevokedAt);
        Assert.Null((await server.Tokens.FindTokenByHashAsync("hash-1", ct))!.RevokedAt);

        Assert.True(await operatorStore.Tokens.RevokeTokenAsync(token.Id, now, ct));

        Assert.Equal(now, (await server.Tokens.FindTokenByHashAsync("hash-1", ct))!.RevokedAt);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
