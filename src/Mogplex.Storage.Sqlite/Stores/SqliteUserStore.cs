using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteUserStore(SqliteDatabase db) : IUserStore
{
    private sealed record Row(string Id, string Name, long CreatedAt);

    private const string Columns = "id AS Id, name AS Name, created_at AS CreatedAt";

    public Task<UserRecord> AddUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var user = new UserRecord(Guid.CreateVersion7().ToString(), name, now);
            await c.ExecuteAsync(
                "INSERT INTO users (id, name, created_at) VALUES (@Id, @Name, @At)",
                new { user.Id, user.Name, At = SqliteTime.ToMs(now) },
                t);
            return user;
        }, cancellationToken);

    public async Task<UserRecord> EnsureUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        await FindUserAsync(name, cancellationToken)
        ?? await db.WriteAsync(async (c, t) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO users (id, name, created_at) VALUES (@Id, @Name, @At) ON CONFLICT (name) DO NOTHING",
                new { Id = Guid.CreateVersion7().ToString(), Name = name, At = SqliteTime.ToMs(now) },
                t);
            return Map(await c.QuerySingleAsync<Row>($"SELECT {Columns} FROM users WHERE name = @name", new { name }, t));
        }, cancellationToken);

    public Task<UserRecord?> FindUserAsync(string name, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM users WHERE name = @name", new { name });
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<UserRecord>>(async c =>
            [.. (await c.QueryAsync<Row>($"SELECT {Columns} FROM users ORDER BY name")).Select(Map)], cancellationToken);

    private static UserRecord Map(Row r) => new(r.Id, r.Name, SqliteTime.FromMs(r.CreatedAt));
}
