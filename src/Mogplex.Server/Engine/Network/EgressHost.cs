using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// One canonical spelling per destination host, shared by rules and requests, so the policy
/// compares plain strings and the proxy connects to exactly the host it checked.
/// Names: ASCII letters, digits, <c>-</c>, <c>_</c> and dots, lower-cased, one trailing dot
/// dropped (<c>API.OpenAI.com.</c> is <c>api.openai.com</c>). IP literals: whatever
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> accepts is an address (so
/// <c>127.1</c> and <c>0x7f000001</c> are <c>127.0.0.1</c>: the proxy then connects to that
/// address, never to a name), written as <see cref="IPAddress.ToString"/>; an IPv4-mapped IPv6
/// address is its IPv4 address; IPv6 zone ids are refused.
/// </summary>
public static class EgressHost
{
    private const int MaxNameLength = 253;

    /// <summary>Canonical form of <paramref name="host"/> (no brackets, no port); false when it is not a valid host.</summary>
    public static bool TryNormalize(string? host, [NotNullWhen(true)] out string? normalized, out IPAddress? address)
    {
        normalized = null;
        address = null;
        if (string.IsNullOrEmpty(host) || host.Length > MaxNameLength + 1)
        {
            return false;
        }

        if (host.Contains(':', StringComparison.Ordinal))
        {
            // Only an IPv6 literal has a colon; its characters are hex digits, colons and the dots
            // of an embedded IPv4 address (no zone id, no brackets).
            if (!host.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
                || !IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6 || v6.ScopeId != 0)
            {
                return false;
            }

            address = v6.IsIPv4MappedToIPv6 ? v6.MapToIPv4() : v6;
            normalized = address.ToString();
            return true;
        }

        if (!host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return false;
        }

        var name = host.EndsWith('.') ? host[..^1] : host;
        if (IPAddress.TryParse(name, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork)
        {
            address = v4;
            normalized = v4.ToString();
            return true;
        }

        if (name.Length == 0 || name.Split('.').Any(label => label.Length is 0 or > 63))
        {
            return false;
        }

        normalized = name.ToLowerInvariant();
        return true;
    }

    /// <summary><paramref name="host"/> (canonical) with <paramref name="port"/>, IPv6 in brackets.</summary>
    public static string Format(string host, int? port)
    {
        var h = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return port is { } p ? $"{h}:{p}" : h;
    }

    /// <summary>
    /// Splits <c>host:port</c>, <c>[v6]:port</c>, or (when <paramref name="portRequired"/> is false)
    /// <c>host</c>, <c>[v6]</c> or a bare IPv6 literal. The host is returned as written (not yet normalized).
    /// </summary>
    public static bool TrySplit(string value, bool portRequired, [NotNullWhen(true)] out string? host, out int? port)
    {
        host = null;
        port = null;
        string rest;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = value[1..close];
            rest = value[(close + 1)..];
            if (!host.Contains(':', StringComparison.Ordinal))
            {
                return false;
            }
        }
        else
        {
            var colons = value.Count(c => c == ':');
            if (colons > 1)
            {
                // A bare IPv6 literal: it cannot carry a port without brackets.
                host = value;
                rest = "";
            }
            else if (colons == 1)
            {
                var i = value.IndexOf(':', StringComparison.Ordinal);
                host = value[..i];
                rest = value[i..];
            }
            else
            {
                host = value;
                rest = "";
            }
        }

        if (rest.Length == 0)
        {
            return !portRequired;
        }

        if (rest[0] != ':' || !TryParsePort(rest[1..], out var p))
        {
            return false;
        }

        port = p;
        return true;
    }

    /// <summary>A TCP port 1–65535 written as plain decimal digits.</summary>
    public static bool TryParsePort(string text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        port = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        return port is >= 1 and <= 65535;
    }
}
