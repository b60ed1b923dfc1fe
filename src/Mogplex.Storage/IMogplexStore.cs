namespace Mogplex.Storage;

/// <summary>
/// One storage provider (SQLite or PostgreSQL). Each narrow store below is implemented by the
/// provider; only providers hold SQL. Picked by <c>Storage:Provider</c>.
/// </summary>
public interface IMogplexStore
{
    /// <summary>Short provider name (<c>sqlite</c>, <c>postgres</c>).</summary>
    string ProviderName { get; }

    IUserStore Users { get; }
    ITokenStore Tokens { get; }
    IRepoStore Repos { get; }
    IRunStore Runs { get; }
    IRunQueue Queue { get; }
    IRunEventLog Events { get; }
    IRateLimitStore RateLimits { get; }
    ISandboxStore Sandboxes { get; }
    IApprovalStore Approvals { get; }
    IRunSessionStore Sessions { get; }

    /// <summary>Wakes readers that follow a run when its events or status change.</summary>
    IRunChangeNotifier Changes { get; }

    /// <summary>Applies pending migrations; safe to call on every start and from several processes.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Cheap round trip used by health checks.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}
