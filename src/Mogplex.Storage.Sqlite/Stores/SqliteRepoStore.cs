using Dapper;

namespace Mogplex.Storage.Sqlite.Stores;

internal sealed class SqliteRepoStore(SqliteDatabase db) : IRepoStore
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
        public long CreatedAt { get; set; }
    }

    private const string Columns =
        "id AS Id, user_id AS UserId, full_name AS FullName, installation_id AS InstallationId, default_branch AS DefaultBranch, " +
        "root_directory AS RootDirectory, source AS Source, install_command AS InstallCommand, created_at AS CreatedAt";

    public Task<RepoRecord> AddRepoAsync(NewRepo repo, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) =>
        {
            await c.ExecuteAsync("INSERT INTO installations (source) VALUES (@Source) ON CONFLICT (source) DO NOTHING", new { repo.Source }, t);
            var installationId = await c.ExecuteScalarAsync<long>("SELECT id FROM installations WHERE source = @Source", new { repo.Source }, t);
            await c.ExecuteAsync(
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
                    CreatedAt = SqliteTime.ToMs(repo.CreatedAt),
                },
                t);
            return new RepoRecord(repo.Id, repo.UserId, repo.FullName, installationId, repo.DefaultBranch, repo.RootDirectory, repo.Source, repo.InstallCommand, repo.CreatedAt);
        }, cancellationToken);

    public Task<RepoRecord?> GetRepoAsync(string repoId, string? userId, CancellationToken cancellationToken) =>
        db.ReadAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(
                $"SELECT {Columns} FROM repos WHERE id = @repoId AND removed_at IS NULL AND (@userId IS NULL OR user_id = @userId)",
                new { repoId, userId });
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<IReadOnlyList<RepoRecord>> ListReposAsync(RepoQuery query, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<RepoRecord>>(async c =>
        {
            // instr() on lower() is a literal substring test: % and _ in the query are not wildcards.
            var rows = await c.QueryAsync<Row>(
                $"""
                SELECT {Columns} FROM repos
                WHERE removed_at IS NULL AND (@UserId IS NULL OR user_id = @UserId)
                  AND (@Query IS NULL OR instr(lower(full_name), lower(@Query)) > 0)
                ORDER BY full_name, id LIMIT @Limit
                """,
                new { query.UserId, query.Query, query.Limit });
            return [.. rows.Select(Map)];
        }, cancellationToken);

    public Task<bool> RemoveRepoAsync(string repoId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.WriteAsync(async (c, t) => await c.ExecuteAsync(
            "UPDATE repos SET removed_at = @at WHERE id = @repoId AND removed_at IS NULL",
            new { repoId, at = SqliteTime.ToMs(now) },
            t) > 0, cancellationToken);

    private static RepoRecord Map(Row r) => new(
        r.Id, r.UserId, r.FullName, r.InstallationId, r.DefaultBranch, r.RootDirectory, r.Source, r.InstallCommand, SqliteTime.FromMs(r.CreatedAt));
}
