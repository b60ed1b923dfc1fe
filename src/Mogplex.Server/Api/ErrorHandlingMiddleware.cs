using Mogplex.Contracts;
using Mogplex.Storage;

namespace Mogplex.Server.Api;

/// <summary>
/// The last line of defence: nothing escapes as a stack trace. A store that cannot answer is 503
/// (retry later); an oversized body is 413; anything else is a logged 500 naming the request id.
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var result = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ApiResults.PayloadTooLarge((int)(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0))
                : ApiResults.BadRequest("Invalid request");
            await result.ExecuteAsync(context);
        }
        catch (StorageUnavailableException ex) when (!context.Response.HasStarted)
        {
            logger.LogError(ex, "Storage unavailable for request {RequestId}", context.TraceIdentifier);
            context.Response.Headers.RetryAfter = "1";
            await ApiResults.Error(ErrorCodes.ServiceUnavailable, "The database is unavailable. Retry later.").ExecuteAsync(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            logger.LogError(ex, "Unhandled error for request {RequestId} {Method} {Path}", context.TraceIdentifier, context.Request.Method, context.Request.Path.Value);
            await ApiResults.Error(ErrorCodes.InternalError, $"Internal error (request id {context.TraceIdentifier})").ExecuteAsync(context);
        }
    }
}
