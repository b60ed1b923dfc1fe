namespace Mogplex.Contracts;

/// <summary>The error codes of the v1 contract. Clients match on these; keep them stable.</summary>
public static class ErrorCodes
{
    public const string BadRequest = "BAD_REQUEST";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotFound = "NOT_FOUND";
    public const string Conflict = "CONFLICT";
    public const string IdempotencyConflict = "IDEMPOTENCY_CONFLICT";
    public const string RateLimited = "RATE_LIMITED";
    public const string InternalError = "INTERNAL_ERROR";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";

    /// <summary>[beyond] 409: the approval was already closed otherwise (answered, expired).</summary>
    public const string ApprovalClosed = "APPROVAL_CLOSED";

    /// <summary>[beyond] 409: the run was not started with <c>interactive: true</c>.</summary>
    public const string RunNotInteractive = "RUN_NOT_INTERACTIVE";

    /// <summary>[beyond] 409: the run already ended.</summary>
    public const string RunTerminal = "RUN_TERMINAL";
}
