using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A request head sent to the <see cref="EgressProxy"/>: <c>CONNECT host:port</c> (authority
/// form) or an absolute-form <c>http://</c> request. The destination is the request line's
/// target, always: a <c>Host</c> header never chooses it, and the forwarded request carries a
/// <c>Host</c> rewritten from the target. Parsing is strict (CRLF line ends, no folded headers,
/// no control characters, no userinfo, no fragment) and fails rather than guesses.
/// </summary>
public sealed class ProxyRequest
{
    private static readonly System.Buffers.SearchValues<char> s_tokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly HashSet<string> s_dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate",
    };

    private ProxyRequest(string method, string host, IPAddress? address, int port, string version, string? originTarget, List<KeyValuePair<string, string>> headers)
    {
        Method = method;
        Host = host;
        Address = address;
        Port = port;
        Version = version;
        OriginTarget = originTarget;
        Headers = headers;
    }

    public string Method { get; }

    public bool IsConnect => Method == "CONNECT";

    /// <summary>The destination host, canonical (see <see cref="EgressHost"/>).</summary>
    public string Host { get; }

    /// <summary>The destination address when the target is an IP literal (the proxy resolves nothing then).</summary>
    public IPAddress? Address { get; }

    public int Port { get; }

    /// <summary><c>HTTP/1.0</c> or <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>The target's path and query (<c>/v1/x?y</c>) of an absolute-form request; <see langword="null"/> for CONNECT.</summary>
    public string? OriginTarget { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>
    /// Parses <paramref name="head"/>: the request line and header lines, each ending in CRLF,
    /// without the blank line that ends the head. Bytes are read as Latin-1, so header values
    /// pass through unchanged.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> head, [NotNullWhen(true)] out ProxyRequest? request, out string error)
    {
        request = null;
        var lines = Encoding.Latin1.GetString(head).Split("\r\n");
        if (lines[^1].Length != 0)
        {
            return Fail("the request head does not end in CRLF", out error);
        }

        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[0].All(IsTokenChar))
        {
            return Fail("malformed request line", out error);
        }

        var (method, target, version) = (parts[0], parts[1], parts[2]);
        if (version is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            return Fail("only HTTP/1.0 and HTTP/1.1 are spoken here", out error);
        }

        if (target.Length == 0 || !target.All(c => c is > ' ' and < '\x7f'))
        {
            return Fail("malformed request target", out error);
        }

        List<KeyValuePair<string, string>> headers = [];
        foreach (var line in lines.AsSpan(1, lines.Length - 2))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line.AsSpan(0, colon).ContainsAnyExcept(s_tokenChars))
            {
                return Fail("malformed header line", out error);
            }

            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => c is < ' ' and not '\t' or '\x7f'))
            {
                return Fail("control character in a header value", out error);
            }

            headers.Add(new(line[..colon], value));
        }

        string authority;
        string? originTarget = null;
        if (method == "CONNECT")
        {
            authority = target;
        }
        else
        {
            const string Scheme = "http://";
            if (!target.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            {
                return Fail("the target must be absolute http:// (use CONNECT for https)", out error);
            }

            var rest = target[Scheme.Length..];
            if (rest.Contains('#', StringComparison.Ordinal) || rest.Contains('\\', StringComparison.Ordinal))
            {
                return Fail("malformed request target", out error);
            }

            var end = rest.IndexOfAny(['/', '?']);
            authority = end < 0 ? rest : rest[..end];
            var path = end < 0 ? "" : rest[end..];
            originTarget = path.StartsWith('/') ? path : "/" + path;
        }

        if (authority.Contains('@', StringComparison.Ordinal)
            || !EgressHost.TrySplit(authority, portRequired: originTarget is null, out var rawHost, out var port)
            || !EgressHost.TryNormalize(rawHost, out var host, out var address))
        {
            return Fail($"'{authority}' is not a valid host:port", out error);
        }

        request = new ProxyRequest(method, host, address, port ?? 80, version, originTarget, headers);
        error = "";
        return true;
    }

    /// <summary>
    /// The head to send upstream for an absolute-form request: origin-form request line, <c>Host</c>
    /// set from the target, hop-by-hop and proxy headers dropped, <c>Connection: close</c> (one
    /// request per upstream connection).
    /// </summary>
    public byte[] ForwardHead()
    {
        if (OriginTarget is null)
        {
            throw new InvalidOperationException("CONNECT has no forwarded head");
        }

        var sb = new StringBuilder();
        sb.Append(Method).Append(' ').Append(OriginTarget).Append(' ').Append(Version).Append("\r\n");
        sb.Append("Host: ").Append(EgressHost.Format(Host, Port == 80 ? null : Port)).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            if (!s_dropped.Contains(name))
            {
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        sb.Append("Connection: close\r\n\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    private static bool IsTokenChar(char c) => s_tokenChars.Contains(c);

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
