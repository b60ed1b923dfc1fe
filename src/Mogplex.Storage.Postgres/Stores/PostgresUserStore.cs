using Dapper;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresUserStore(PostgresDatabase db) : IUserStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public DateTime CreatedAt { get; set; }
    }

    private const string Columns = "id AS Id, name AS Name, created_at AS CreatedAt";

    public Task<UserRecord> AddUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            var user = new UserRecord(Guid.CreateVersion7().ToString(), name, PostgresTime.ToDb(now));
            await c.ExecuteAsync(Command(
                "INSERT INTO users (id, name, created_at) VALUES (@Id, @Name, @CreatedAt)",
                new { user.Id, user.Name, user.CreatedAt },
                t,
                cancellationToken));
            return user;
        }, cancellationToken);

    public async Task<UserRecord> EnsureUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken) =>
        await FindUserAsync(name, cancellationToken)
        ?? await db.WriteAsync(async (c, t) =>
        {
            // A concurrent insert of the same name makes this one wait, then do nothing; the next
            // statement (READ COMMITTED: a new snapshot) sees the winner.
            await c.ExecuteAsync(Command(
                "INSERT INTO users (id, name, created_at) VALUES (@Id, @Name, @At) ON CONFLICT (name) DO NOTHING",
                new { Id = Guid.CreateVersion7().ToString(), Name = name, At = PostgresTime.ToDb(now) },
                t,
                cancellationToken));
            return Map(await c.QuerySingleAsync<Row>(Command($"SELECT {Columns} FROM users WHERE name = @name", new { name }, t, cancellationToken)));
        }, cancellationToken);

    public Task<UserRecord?> FindUserAsync(string name, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(Command($"SELECT {Columns} FROM users WHERE name = @name", new { name }, null, cancellationToken));
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<UserRecord>>(async c =>
            [.. (await c.QueryAsync<Row>(Command($"SELECT {Columns} FROM users ORDER BY name", null, null, cancellationToken))).Select(Map)], cancellationToken);

    private static UserRecord Map(Row r) => new(r.Id, r.Name, PostgresTime.FromDb(r.CreatedAt));
}
