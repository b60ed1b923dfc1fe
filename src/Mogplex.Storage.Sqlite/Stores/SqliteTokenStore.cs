using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteTokenStore(SqliteDatabase db) : ITokenStore
{
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

    public Task<TokenRecord?> FindTokenByHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM tokens WHERE token_hash = @tokenHash", new { tokenHash });
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<TokenRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(
                $"SELECT {Columns} FROM tokens WHERE (@userId IS NULL OR user_id = @userId) ORDER BY created_at DESC, id DESC",
                new { userId })).Select(Map)], cancellationToken);

    public Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var exists = await c.ExecuteScalarAsync<long>("SELECT count(*) FROM tokens WHERE id = @tokenId", new { tokenId }, t);
            await c.ExecuteAsync(
                "UPDATE tokens SET revoked_at = @at WHERE id = @tokenId AND revoked_at IS NULL",
                new { tokenId, at = SqliteTime.ToMs(now) },
                t);
            return exists > 0;
        }, cancellationToken);

    public Task TouchTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(
            "UPDATE tokens SET last_used_at = @at WHERE id = @tokenId",
            new { tokenId, at = SqliteTime.ToMs(now) },
            t), cancellationToken);

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
