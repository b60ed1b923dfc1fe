using System.Diagnostics;

namespace Mogplex.Server.Api;

/// <summary>One structured line per request: method, path, status, duration, request id. Never headers or bodies (tokens live there).</summary>
public sealed class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (logger.IsEnabled(LogLevel.Debug) || context.Response.StatusCode >= 500)
            {
                logger.Log(
                    context.Response.StatusCode >= 500 ? LogLevel.Warning : LogLevel.Debug,
                    "{Method} {Path} {Status} {ElapsedMs:F1}ms {RequestId}",
                    context.Request.Method,
                    context.Request.Path.Value,
                    context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    context.TraceIdentifier);
            }
        }
    }
}
