using System.Net;

namespace Mogplex.Server.Configuration;

/// <summary>A validated TCP listen address.</summary>
public sealed record ListenAddress(IPAddress Address, int Port)
{
    /// <summary>Parses <c>http://host:port</c>; non-loopback plain HTTP needs <c>--allow-insecure-http</c>.</summary>
    public static ListenAddress Parse(string url, bool allowInsecure)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/" || uri.Port < 0)
        {
            throw new ArgumentException($"--listen {url}: expected http://<ip>:<port>");
        }

        var host = uri.Host.Trim('[', ']');
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var ip) ? ip : null;
        if (address is null)
        {
            throw new ArgumentException($"--listen {url}: the host must be an IP address or localhost");
        }

        if (!IPAddress.IsLoopback(address) && !allowInsecure)
        {
            throw new ArgumentException($"--listen {url}: plain HTTP on a non-loopback address needs --allow-insecure-http (terminate TLS in front instead)");
        }

        return new ListenAddress(address, uri.Port);
    }
}
