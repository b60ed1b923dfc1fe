namespace Mogplex.Storage;

/// <summary>A user: the owner of tokens, repos, runs and sandboxes.</summary>
public sealed record UserRecord(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>Users. A default user <c>admin</c> is created on first use.</summary>
public interface IUserStore
{
    /// <summary>Adds a user; throws <see cref="DuplicateEntryException"/> when the name exists.</summary>
    Task<UserRecord> AddUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Returns the user, creating it when missing (used for the default <c>admin</c>).</summary>
    Task<UserRecord> EnsureUserAsync(string name, DateTimeOffset now, CancellationToken cancellationToken);

    Task<UserRecord?> FindUserAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserRecord>> ListUsersAsync(CancellationToken cancellationToken);
}
