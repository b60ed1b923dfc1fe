namespace Mogplex.Storage;

/// <summary>A personal access token as stored: never the plaintext, only its SHA-256 and a prefix.</summary>
public sealed record TokenRecord(
    string Id,
    string UserId,
    string Name,
    string Prefix,
    IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

/// <summary>Token storage. Lookups are by the SHA-256 hex of the whole token.</summary>
public interface ITokenStore
{
    Task AddTokenAsync(TokenRecord token, string tokenHash, CancellationToken cancellationToken);

    Task<TokenRecord?> FindTokenByHashAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Tokens of one user, or of everyone when <paramref name="userId"/> is null; newest first.</summary>
    Task<IReadOnlyList<TokenRecord>> ListTokensAsync(string? userId, CancellationToken cancellationToken);

    /// <summary>Revokes a token; false when it does not exist. Revoking twice keeps the first time.</summary>
    Task<bool> RevokeTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records use of a token (callers throttle this; it is bookkeeping, not security).</summary>
    Task TouchTokenAsync(string tokenId, DateTimeOffset now, CancellationToken cancellationToken);
}
