using Dapper;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

/// <summary>
/// Tokens. Unlike the SQLite provider there is no in-process cache: a revocation made through any
/// node must hold on every node at once, and a lookup by the unique hash is one index probe.
/// </summary>
internal sealed class PostgresTokenStore(PostgresDatabase db) : ITokenStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string UserId { get; set; } = "";
        public string Name { get; set; } = "";
        public string Prefix { get; set; } = "";
        public string Scopes { get; set; } = "";
        public DateTime CreatedAt { get; set; }
        public DateTime? ExpiresAt { get; set; }
        public DateTime? LastUsedAt { get; set; }
        public DateTime? RevokedAt { get; set; }
    }

    private const string Columns =
        "id AS Id, user_id AS UserId, name AS Name, prefix AS Prefix, scopes AS Scopes, created_at AS CreatedAt, " +
        "expires_at AS ExpiresAt, last_used_at AS LastUsedAt, revoked_at AS RevokedAt";

    public Task AddTokenAsync(TokenRecord token, string tokenHash, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(Command(
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
                CreatedAt = PostgresTime.ToDb(token.CreatedAt),
                ExpiresAt = PostgresTime.ToDb(token.ExpiresAt),
            },
            t,
            cancellationToken)), cancellationToken);

    public Task<TokenRecord?> FindTokenByHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(Command($"SELECT {Columns} FROM tokens WHERE token_hash = @tokenHash", new { tokenHash }, null, cancellationToken));
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<TokenRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(Command(
                $"SELECT {Columns} FROM tokens WHERE (@userId::text IS NULL OR user_id = @userId) ORDER BY created_at DESC, id DESC",
                new { userId },
                null,
                cancellationToken))).Select(Map)], cancellationToken);

    public Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            // COALESCE keeps the first revocation time; the row count tells whether the token exists.
            var rows = await c.ExecuteAsync(Command(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, @at) WHERE id = @tokenId",
                new { tokenId, at = PostgresTime.ToDb(now) },
                t,
                cancellationToken));
            return rows > 0;
        }, cancellationToken);

    public Task TouchTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(Command(
            "UPDATE tokens SET last_used_at = @at WHERE id = @tokenId",
            new { tokenId, at = PostgresTime.ToDb(now) },
            t,
            cancellationToken)), cancellationToken);

    private static TokenRecord Map(Row r) => new(
        r.Id,
        r.UserId,
        r.Name,
        r.Prefix,
        r.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries),
        PostgresTime.FromDb(r.CreatedAt),
        PostgresTime.FromDb(r.ExpiresAt),
        PostgresTime.FromDb(r.LastUsedAt),
        PostgresTime.FromDb(r.RevokedAt));
}
