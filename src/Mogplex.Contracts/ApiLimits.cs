namespace Mogplex.Contracts;

/// <summary>The sizes the API accepts, shared by the server (which enforces them) and the clients (which refuse before sending).</summary>
public static class ApiLimits
{
    /// <summary>A run's prompt, trimmed, in UTF-16 code units (as the hosted service counts).</summary>
    public const int MaxPromptLength = 100_000;

    /// <summary>[beyond] A follow-up's text (<c>POST /runs/{id}/messages</c>).</summary>
    public const int MaxMessageLength = 100_000;

    /// <summary>[beyond] Why an approval was rejected.</summary>
    public const int MaxReasonLength = 1_000;

    /// <summary>An <c>Idempotency-Key</c>.</summary>
    public const int MaxIdempotencyKeyLength = 200;
}
