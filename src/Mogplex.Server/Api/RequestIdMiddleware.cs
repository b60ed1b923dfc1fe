namespace Mogplex.Server.Api;

/// <summary>
/// Every response carries <c>X-Request-Id</c>: the client's when it is of sane length and shape,
/// else a fresh one. It becomes the trace identifier, so logs and 500 messages name it.
/// </summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string Header = "X-Request-Id";

    public Task InvokeAsync(HttpContext context)
    {
        var given = context.Request.Headers[Header].ToString();
        var id = IsSane(given) ? given : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.Headers[Header] = id;
        return next(context);
    }

    internal static bool IsSane(string value)
    {
        if (value.Length is 0 or > 128)
        {
            return false;
        }

        foreach (var ch in value)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch is not ('-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
