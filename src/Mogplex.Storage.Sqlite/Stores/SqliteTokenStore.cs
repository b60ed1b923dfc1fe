using System.Collections.Concurrent;
using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

/// <summary>
/// Tokens. Lookups by hash (every authenticated request) are cached in memory; any process that
/// changes a token through this store (the server, or an operator command beside it) rewrites a
/// marker file next to the database after its commit, and every lookup compares the marker's
/// write time (one stat) with the one its cache was filled under. A revocation therefore takes
/// effect on the next request. Order matters: a lookup reads the marker before the database,
/// a change commits before it touches the marker, so no lookup can cache a stale record under a
/// fresh marker.
/// </summary>
internal sealed class SqliteTokenStore(SqliteDatabase db) : ITokenStore
{
    private const int MaxCached = 10_000;

    private readonly ConcurrentDictionary<string, (long Version, TokenRecord Token)> _byHash = new(StringComparer.Ordinal);

    private string MarkerPath => db.Path + ".tokens-changed";

    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string UserId { get; set; } = "";
        public string Name { get; set; } = "";
        public string Prefix { get; set; } = "";
        public string Scopes { get; set; } = "";
        public long CreatedAt { get; set; }
        public long? ExpiresAt { get; set; }
        public long? LastUsedAt { get; set; }
        public long? RevokedAt { get; set; }
    }

    private const string Columns =
        "id AS Id, user_id AS UserId, name AS Name, prefix AS Prefix, scopes AS Scopes, created_at AS CreatedAt, " +
        "expires_at AS ExpiresAt, last_used_at AS LastUsedAt, revoked_at AS RevokedAt";

    public Task AddTokenAsync(TokenRecord token, string tokenHash, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(
            """
            INSERT INTO tokens (id, user_id, name, token_hash, prefix, scopes, created_at, expires_at)
            VALUES (@Id, @UserId, @Name, @Hash, @Prefix, @Scopes, @CreatedAt, @ExpiresAt)
            """,
            new
            {
                token.Id,
                token.UserId,
                token.Name,
                Hash = tokenHash,
                token.Prefix,
                Scopes = string.Join(',', token.Scopes),
                CreatedAt = SqliteTime.ToMs(token.CreatedAt),
                ExpiresAt = SqliteTime.ToMs(token.ExpiresAt),
            },
            t), cancellationToken);

    public async Task<TokenRecord?> FindTokenByHashAsync(string tokenHash, CancellationToken cancellationToken)
    {
        var version = MarkerVersion();
        if (_byHash.TryGetValue(tokenHash, out var cached) && cached.Version == version)
        {
            return cached.Token;
        }

        var token = await db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM tokens WHERE token_hash = @tokenHash", new { tokenHash });
            return row is null ? null : Map(row);
        }, cancellationToken);
        if (token is not null)
        {
            if (_byHash.Count >= MaxCached)
            {
                _byHash.Clear();
            }

            _byHash[tokenHash] = (version, token);
        }

        return token;
    }

    /// <summary>The marker's write time: changes whenever any process changed a token.</summary>
    private long MarkerVersion() => File.GetLastWriteTimeUtc(MarkerPath).Ticks;

    private void TouchMarker()
    {
        // Content changes too, so that two changes within the clock's resolution still differ in size or time.
        File.WriteAllText(MarkerPath, Guid.NewGuid().ToString("N"));
        File.SetLastWriteTimeUtc(MarkerPath, DateTime.UtcNow.AddTicks(Random.Shared.Next(1, 1000)));
    }

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<TokenRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(
                $"SELECT {Columns} FROM tokens WHERE (@userId IS NULL OR user_id = @userId) ORDER BY created_at DESC, id DESC",
                new { userId })).Select(Map)], cancellationToken);

    public async Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var found = await db.WriteAsync(async (c, t) =>
        {
            var exists = await c.ExecuteScalarAsync<long>("SELECT count(*) FROM tokens WHERE id = @tokenId", new { tokenId }, t);
            await c.ExecuteAsync(
                "UPDATE tokens SET revoked_at = @at WHERE id = @tokenId AND revoked_at IS NULL",
                new { tokenId, at = SqliteTime.ToMs(now) },
                t);
            return exists > 0;
        }, cancellationToken);
        TouchMarker();
        return found;
    }

    public async Task TouchTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await db.WriteAsync(async (c, t) => await c.ExecuteAsync(
            "UPDATE tokens SET last_used_at = @at WHERE id = @tokenId",
            new { tokenId, at = SqliteTime.ToMs(now) },
            t), cancellationToken);

        // Bookkeeping only (no marker): keep this process's cached copy in step.
        foreach (var (hash, entry) in _byHash)
        {
            if (entry.Token.Id == tokenId)
            {
                _byHash.TryUpdate(hash, (entry.Version, entry.Token with { LastUsedAt = SqliteTime.FromMs(SqliteTime.ToMs(now)) }), entry);
            }
        }
    }

    private static TokenRecord Map(Row r) => new(
        r.Id,
        r.UserId,
        r.Name,
        r.Prefix,
        r.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries),
        SqliteTime.FromMs(r.CreatedAt),
        SqliteTime.FromMs(r.ExpiresAt),
        SqliteTime.FromMs(r.LastUsedAt),
        SqliteTime.FromMs(r.RevokedAt));
}
