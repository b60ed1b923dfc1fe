using System.Net;

namespace Mogplex.Client;

/// <summary>
/// The server answered with an error: an <c>{ok:false}</c> envelope (<see cref="IsEnvelope"/>), or a
/// status without one (a proxy, or a route the server does not have).
/// </summary>
public sealed class ApiException(HttpStatusCode status, string code, string message, bool isEnvelope, TimeSpan? retryAfter)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The API error code (<c>NOT_FOUND</c>, ...), or <c>HTTP_&lt;status&gt;</c> when the answer had no envelope.</summary>
    public string Code { get; } = code;

    public bool IsEnvelope { get; } = isEnvelope;

    /// <summary>From the <c>Retry-After</c> header, when the server sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>The server could not be reached at all (refused, no such socket, DNS, TLS, timeout, dropped).</summary>
public sealed class ServerUnreachableException(string address, string reason, Exception? inner = null)
    : Exception($"cannot reach the server at {address}: {reason}", inner)
{
    public string Address { get; } = address;
}
