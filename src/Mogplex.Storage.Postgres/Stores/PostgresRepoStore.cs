using Dapper;
using static Mogplex.Storage.Postgres.PostgresDatabase;

namespace Mogplex.Storage.Postgres.Stores;

internal sealed class PostgresRepoStore(PostgresDatabase db) : IRepoStore
{
    private sealed class Row
    {
        public string Id { get; set; } = "";
        public string UserId { get; set; } = "";
        public string FullName { get; set; } = "";
        public long InstallationId { get; set; }
        public string DefaultBranch { get; set; } = "";
        public string RootDirectory { get; set; } = "";
        public string Source { get; set; } = "";
        public string? InstallCommand { get; set; }
        public DateTime CreatedAt { get; set; }
    }

    private const string Columns =
        "id AS Id, user_id AS UserId, full_name AS FullName, installation_id AS InstallationId, default_branch AS DefaultBranch, " +
        "root_directory AS RootDirectory, source AS Source, install_command AS InstallCommand, created_at AS CreatedAt";

    public Task<RepoRecord> AddRepoAsync(NewRepo repo, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            // Two nodes linking the first repo of a source at once: the loser's insert waits, does
            // nothing, and its next statement sees the winner's row.
            await c.ExecuteAsync(Command("INSERT INTO installations (source) VALUES (@Source) ON CONFLICT (source) DO NOTHING", new { repo.Source }, t, cancellationToken));
            var installationId = await c.ExecuteScalarAsync<long>(Command("SELECT id FROM installations WHERE source = @Source", new { repo.Source }, t, cancellationToken));
            var createdAt = PostgresTime.ToDb(repo.CreatedAt);
            await c.ExecuteAsync(Command(
                """
                INSERT INTO repos (id, user_id, full_name, installation_id, default_branch, root_directory, source, install_command, created_at)
                VALUES (@Id, @UserId, @FullName, @InstallationId, @DefaultBranch, @RootDirectory, @Source, @InstallCommand, @CreatedAt)
                """,
                new
                {
                    repo.Id,
                    repo.UserId,
                    repo.FullName,
                    InstallationId = installationId,
                    repo.DefaultBranch,
                    repo.RootDirectory,
                    repo.Source,
                    repo.InstallCommand,
                    CreatedAt = createdAt,
                },
                t,
                cancellationToken));
            return new RepoRecord(repo.Id, repo.UserId, repo.FullName, installationId, repo.DefaultBranch, repo.RootDirectory, repo.Source, repo.InstallCommand, createdAt);
        }, cancellationToken);

    public Task<RepoRecord?> GetRepoAsync(string repoId, string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(Command(
                $"SELECT {Columns} FROM repos WHERE id = @repoId AND removed_at IS NULL AND (@userId::text IS NULL OR user_id = @userId)",
                new { repoId, userId },
                null,
                cancellationToken));
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<RepoRecord>> ListReposAsync(RepoQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<RepoRecord>>(async c =>
        {
            // strpos() on lower() is a literal substring test: % and _ in the query are not wildcards.
            // The columns' "C" collation makes lower() fold ASCII only, as SQLite's does.
            var rows = await c.QueryAsync<Row>(Command(
                $"""
                SELECT {Columns} FROM repos
                WHERE removed_at IS NULL AND (@UserId::text IS NULL OR user_id = @UserId)
                  AND (@Query::text IS NULL OR strpos(lower(full_name), lower(@Query::text COLLATE "C")) > 0)
                ORDER BY full_name, id LIMIT @Limit
                """,
                new { query.UserId, query.Query, query.Limit },
                null,
                cancellationToken));
            return [.. rows.Select(Map)];
        }, cancellationToken);

    public Task<bool> RemoveRepoAsync(string repoId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(Command(
            "UPDATE repos SET removed_at = @at WHERE id = @repoId AND removed_at IS NULL",
            new { repoId, at = PostgresTime.ToDb(now) },
            t,
            cancellationToken)) > 0, cancellationToken);

    private static RepoRecord Map(Row r) => new(
        r.Id, r.UserId, r.FullName, r.InstallationId, r.DefaultBranch, r.RootDirectory, r.Source, r.InstallCommand, PostgresTime.FromDb(r.CreatedAt));
}
