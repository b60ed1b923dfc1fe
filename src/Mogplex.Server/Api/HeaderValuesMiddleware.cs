using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Mogplex.Server.Api;

/// <summary>
/// Refuses a request whose header values are not text: a control character other than tab, or bytes
/// that are not UTF-8. Kestrel decodes header values as Latin-1 (<see cref="Encoding"/>), so no
/// byte sequence makes it refuse a value before this runs (by default it answers bytes that are not
/// UTF-8 with an empty 400, no envelope, no <c>X-Request-Id</c>); here a non-ASCII value is
/// decoded again as strict UTF-8, as Kestrel's default would, or refused with the envelope. NUL,
/// CR and LF never get here: Kestrel refuses NUL and ends the header line at CR/LF. See docs/decisions.md.
/// </summary>
public sealed class HeaderValuesMiddleware(RequestDelegate next)
{
    private static readonly SearchValues<char> s_controls = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000a\u000b\u000c\u000d\u000e\u000f" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f");

    private static readonly SearchValues<char> s_token = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>How Kestrel decodes request header values (<c>RequestHeaderEncodingSelector</c>): each byte one character.</summary>
    public static Encoding Encoding => Encoding.Latin1;

    public Task InvokeAsync(HttpContext context)
    {
        List<(string Name, StringValues Values)>? decoded = null;
        foreach (var (name, values) in context.Request.Headers)
        {
            string?[]? utf8 = null;
            for (var i = 0; i < values.Count; i++)
            {
                var value = values[i] ?? "";
                if (value.AsSpan().ContainsAny(s_controls))
                {
                    return Refuse(context, name);
                }

                if (!Ascii.IsValid(value))
                {
                    if (!TryUtf8(value, out var text))
                    {
                        return Refuse(context, name);
                    }

                    utf8 ??= values.ToArray();
                    utf8[i] = text;
                }
            }

            if (utf8 is not null)
            {
                (decoded ??= []).Add((name, new StringValues(utf8)));
            }
        }

        foreach (var (name, values) in decoded ?? [])
        {
            context.Request.Headers[name] = values;
        }

        return next(context);
    }

    /// <summary>The UTF-8 text whose bytes Kestrel decoded one by one as <paramref name="latin1"/>, if they are UTF-8.</summary>
    private static bool TryUtf8(string latin1, out string text)
    {
        var bytes = Encoding.Latin1.GetBytes(latin1);
        try
        {
            text = s_strictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    private static Task Refuse(HttpContext context, string name) =>
        ApiResults.BadRequest($"Invalid header {Printable(name)}: a control character or bytes that are not UTF-8").ExecuteAsync(context);

    /// <summary>The header's name when it is a plain token, else a stand-in (the message never carries what the client smuggled in).</summary>
    private static string Printable(string name) =>
        name.Length is > 0 and <= 64 && !name.AsSpan().ContainsAnyExcept(s_token) ? name : "(unprintable name)";
}
