using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Server.Api;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Auth;

/// <summary>
/// Authenticates every v1 route, then applies the per-token request limit, then the scope check.
/// One answer for every bad token (missing, malformed, unknown, expired, revoked), so a caller
/// learns nothing about which. The limit counts only requests whose token was proven valid.
/// </summary>
public sealed class ApiAuthFilter(IMogplexStore store, TimeProvider time, IOptionsMonitor<RateLimitOptions> limits, RequestRateLimiter limiter) : IEndpointFilter
{
    private static readonly ConcurrentDictionary<string, long> s_lastTouch = new(StringComparer.Ordinal);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var ct = http.RequestAborted;
        var token = ReadBearer(http.Request.Headers.Authorization.ToString());
        if (!AccessTokens.IsWellFormed(token))
        {
            return ApiResults.Unauthorized();
        }

        var record = await store.Tokens.FindTokenByHashAsync(AccessTokens.Hash(token!), ct);
        var now = time.GetUtcNow();
        if (record is null || record.RevokedAt is not null || (record.ExpiresAt is { } expires && expires <= now))
        {
            return ApiResults.Unauthorized();
        }

        var options = limits.CurrentValue;
        var window = new RateWindow("request", options.RequestsPerWindow, TimeSpan.FromSeconds(options.WindowSeconds));
        var decision = await limiter.AcquireAsync("req:" + record.Id, window, ct);
        // Every answer past this point carries the request window's headers; a run-start 429
        // replaces them with those of the run-start window that refused (RunsEndpoints).
        ApiResults.SetRateLimitHeaders(http.Response, decision);
        if (!decision.Allowed)
        {
            return ApiResults.RateLimited($"Rate limit exceeded. Retry after {ApiResults.Seconds(decision.RetryAfter)}s.", decision);
        }

        await TouchAsync(record.Id, now, ct);
        var required = Scopes.RequiredFor(http.Request.Method);
        if (!record.Scopes.Contains(required))
        {
            return ApiResults.Error(ErrorCodes.Forbidden, $"Missing required scope: {required}");
        }

        new Caller(record.UserId, record.Id, record.Scopes).AttachTo(http);
        return await next(context);
    }

    private static string? ReadBearer(string header)
    {
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : null;
    }

    /// <summary>last_used_at is bookkeeping: write it at most once a minute per token, not on every request.</summary>
    private async Task TouchAsync(string tokenId, DateTimeOffset now, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var last = s_lastTouch.GetValueOrDefault(tokenId);
        if (nowMs - last < 60_000 && nowMs >= last)
        {
            return;
        }

        s_lastTouch[tokenId] = nowMs;
        await store.Tokens.TouchTokenAsync(tokenId, now, ct);
    }
}
