using System.Diagnostics.CodeAnalysis;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// One allowed destination: a host in canonical form (see <see cref="EgressHost"/>), or
/// <c>*.suffix</c> for every name ending in <c>.suffix</c> (not <c>suffix</c> itself), and a port
/// (<see langword="null"/>: any port). IP literals match only the same address.
/// </summary>
public sealed record EgressRule
{
    private EgressRule(string host, int? port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>Canonical host, or <c>*.suffix</c> with a canonical name as suffix.</summary>
    public string Host { get; }

    /// <summary>The allowed port; <see langword="null"/> allows every port.</summary>
    public int? Port { get; }

    /// <summary>Whether this rule names a suffix (<c>*.example.org</c>) rather than one host.</summary>
    public bool IsWildcard => Host.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>Whether the rule allows <paramref name="host"/> (canonical) on <paramref name="port"/>.</summary>
    public bool Matches(string host, int port)
    {
        if (Port is { } p && p != port)
        {
            return false;
        }

        return IsWildcard
            ? host.Length > Host.Length - 1 && host.EndsWith(Host[1..], StringComparison.Ordinal)
            : host == Host;
    }

    /// <summary>
    /// Parses an allowlist entry: <c>host</c>, <c>host:port</c>, <c>*.suffix</c>, <c>*.suffix:port</c>,
    /// an IPv4 literal with or without port, <c>[v6]</c>, <c>[v6]:port</c> or a bare IPv6 literal.
    /// </summary>
    public static bool TryParse(string? entry, [NotNullWhen(true)] out EgressRule? rule, out string error)
    {
        rule = null;
        var text = entry?.Trim() ?? "";
        if (!EgressHost.TrySplit(text, portRequired: false, out var host, out var port))
        {
            error = $"'{entry}' is not host, host:port or [ipv6]:port (ports 1-65535)";
            return false;
        }

        var wildcard = host.StartsWith("*.", StringComparison.Ordinal);
        if (!EgressHost.TryNormalize(wildcard ? host[2..] : host, out var normalized, out var address))
        {
            error = $"'{entry}' does not name a valid host";
            return false;
        }

        if (wildcard && address is not null)
        {
            error = $"'{entry}': a wildcard needs a domain name, not an IP address";
            return false;
        }

        rule = new EgressRule(wildcard ? "*." + normalized : normalized, port);
        error = "";
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing <see cref="FormatException"/> on a bad entry.</summary>
    public static EgressRule Parse(string entry) =>
        TryParse(entry, out var rule, out var error) ? rule : throw new FormatException(error);

    /// <summary>A rule for exactly <paramref name="host"/> (any spelling <see cref="EgressHost"/> accepts) and <paramref name="port"/>.</summary>
    public static EgressRule For(string host, int? port) =>
        EgressHost.TryNormalize(host, out var normalized, out _) && port is null or (>= 1 and <= 65535)
            ? new EgressRule(normalized, port)
            : throw new FormatException($"'{host}' port {port} is not a valid destination");

    public override string ToString() => EgressHost.Format(Host, Port);
}
