using System.Text.Json.Serialization.Metadata;
using Mogplex.Contracts;
using Mogplex.Contracts.Json;
using Mogplex.Storage;

namespace Mogplex.Server.Api;

/// <summary>
/// Every v1 answer goes through here: one envelope shape, one table from error code to HTTP
/// status, source-generated JSON.
/// </summary>
public static class ApiResults
{
    /// <summary>The HTTP status of each error code.</summary>
    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.BadRequest => StatusCodes.Status400BadRequest,
        ErrorCodes.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorCodes.Forbidden => StatusCodes.Status403Forbidden,
        ErrorCodes.NotFound => StatusCodes.Status404NotFound,
        ErrorCodes.Conflict or ErrorCodes.IdempotencyConflict or ErrorCodes.ApprovalClosed or ErrorCodes.RunNotInteractive or ErrorCodes.RunTerminal => StatusCodes.Status409Conflict,
        ErrorCodes.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorCodes.ServiceUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static IResult Ok<T>(T data, int status = StatusCodes.Status200OK) =>
        new EnvelopeResult<ApiEnvelope<T>>(new ApiEnvelope<T>(true, data), TypeInfo<ApiEnvelope<T>>(), status);

    public static IResult Error(string code, string message) =>
        new EnvelopeResult<ApiErrorEnvelope>(new ApiErrorEnvelope(false, new ApiError(code, message)), MogplexJsonContext.Default.ApiErrorEnvelope, StatusOf(code));

    public static IResult BadRequest(string message) => Error(ErrorCodes.BadRequest, message);

    public static IResult NotFound(string message) => Error(ErrorCodes.NotFound, message);

    public static IResult Unauthorized() => new HeaderResult(Error(ErrorCodes.Unauthorized, "Unauthorized"), "WWW-Authenticate", "Bearer");

    /// <summary>
    /// A 429 described by the limit that refused it: <c>Retry-After</c> and the <c>RateLimit-*</c>
    /// headers of <paramref name="decision"/>'s window (replacing those of any window counted before).
    /// </summary>
    public static IResult RateLimited(string message, RateLimitDecision decision) =>
        new RateLimitResult(Error(ErrorCodes.RateLimited, message), decision);

    /// <summary>
    /// <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and <c>RateLimit-Reset</c> of one window.
    /// When it refused, the reset is the <c>Retry-After</c>: the seconds until a request fits again.
    /// </summary>
    public static void SetRateLimitHeaders(HttpResponse response, RateLimitDecision decision)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        response.Headers["RateLimit-Limit"] = decision.Window.Limit.ToString(invariant);
        response.Headers["RateLimit-Remaining"] = (decision.Allowed ? Math.Max(0, decision.Remaining) : 0).ToString(invariant);
        response.Headers["RateLimit-Reset"] = decision.Allowed
            ? ((long)Math.Ceiling(decision.Reset.TotalSeconds)).ToString(invariant)
            : Seconds(decision.RetryAfter);
        if (!decision.Allowed)
        {
            response.Headers.RetryAfter = Seconds(decision.RetryAfter);
        }
    }

    /// <summary>Whole seconds to wait, rounded up, at least 1 (<c>Retry-After</c> and the messages that quote it).</summary>
    public static string Seconds(TimeSpan value) =>
        Math.Max(1, (long)Math.Ceiling(value.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static IResult PayloadTooLarge(int maxBytes) =>
        new EnvelopeResult<ApiErrorEnvelope>(
            new ApiErrorEnvelope(false, new ApiError(ErrorCodes.BadRequest, $"Request body exceeds the maximum size of {maxBytes} bytes")),
            MogplexJsonContext.Default.ApiErrorEnvelope,
            StatusCodes.Status413PayloadTooLarge);

    private static JsonTypeInfo<T> TypeInfo<T>() =>
        (JsonTypeInfo<T>?)MogplexJsonContext.Default.GetTypeInfo(typeof(T))
        ?? throw new InvalidOperationException($"{typeof(T)} is missing from MogplexJsonContext.");

    private sealed class EnvelopeResult<T>(T value, JsonTypeInfo<T> typeInfo, int status) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            return httpContext.Response.WriteAsJsonAsync(value, typeInfo, "application/json; charset=utf-8", httpContext.RequestAborted);
        }
    }

    private sealed class RateLimitResult(IResult inner, RateLimitDecision decision) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            SetRateLimitHeaders(httpContext.Response, decision);
            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed class HeaderResult(IResult inner, string header, string value) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[header] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
