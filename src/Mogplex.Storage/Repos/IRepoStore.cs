namespace Mogplex.Storage;

/// <summary>A linked repository.</summary>
public sealed record RepoRecord(
    string Id,
    string UserId,
    string FullName,
    long InstallationId,
    string DefaultBranch,
    string RootDirectory,
    string Source,
    string? InstallCommand,
    DateTimeOffset CreatedAt);

/// <summary>What the operator gives when linking a repository.</summary>
public sealed record NewRepo(
    string Id,
    string UserId,
    string FullName,
    string DefaultBranch,
    string RootDirectory,
    string Source,
    string? InstallCommand,
    DateTimeOffset CreatedAt);

/// <summary>A repo listing: <paramref name="Query"/> is a literal, case-insensitive substring of full_name.</summary>
public sealed record RepoQuery(string? UserId, string? Query, int Limit);

/// <summary>Linked repositories. Removed repos disappear from lists and lookups; their runs stay.</summary>
public interface IRepoStore
{
    /// <summary>Links a repo; the installation id is stable per source.</summary>
    Task<RepoRecord> AddRepoAsync(NewRepo repo, CancellationToken cancellationToken);

    /// <summary>A repo by id, only if owned by <paramref name="userId"/> (null: any owner).</summary>
    Task<RepoRecord?> GetRepoAsync(string repoId, string? userId, CancellationToken cancellationToken);

    /// <summary>Repos ordered by full_name.</summary>
    Task<IReadOnlyList<RepoRecord>> ListReposAsync(RepoQuery query, CancellationToken cancellationToken);

    Task<bool> RemoveRepoAsync(string repoId, DateTimeOffset now, CancellationToken cancellationToken);
}
