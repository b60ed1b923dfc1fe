using System.Net;
using System.Net.Sockets;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// Where a sandbox may connect through its <see cref="EgressProxy"/>: the harnesses' model
/// endpoints plus the operator's <c>Sandbox:AllowedHosts</c>. A destination is allowed when a rule
/// matches its canonical host and port; host names and IP literals never stand in for each other
/// (allowing <c>127.0.0.1:9999</c> does not allow <c>localhost:9999</c>, nor the reverse).
/// </summary>
public sealed class EgressPolicy
{
    /// <summary>Codex's API when <c>Harnesses:Codex:BaseUrl</c> is not set.</summary>
    public const string OpenAiHost = "api.openai.com";

    /// <summary>Claude Code's API when <c>Harnesses:ClaudeCode:BaseUrl</c> is not set.</summary>
    public const string AnthropicHost = "api.anthropic.com";

    public EgressPolicy(IEnumerable<EgressRule> rules)
    {
        // Exact rules first: a host both listed by name and covered by a wildcard is matched as
        // listed, so the stricter address check of wildcards (below) does not apply to it.
        Rules = [.. rules.Distinct().OrderBy(r => r.IsWildcard)];
    }

    public IReadOnlyList<EgressRule> Rules { get; }

    /// <summary>The rule allowing <paramref name="host"/> (canonical) on <paramref name="port"/>, or <see langword="null"/>.</summary>
    public EgressRule? Match(string host, int port) => Rules.FirstOrDefault(r => r.Matches(host, port));

    /// <summary>Whether <paramref name="host"/> (any spelling <see cref="EgressHost"/> accepts) on <paramref name="port"/> is allowed.</summary>
    public bool Allows(string host, int port) =>
        EgressHost.TryNormalize(host, out var normalized, out _) && Match(normalized, port) is not null;

    /// <summary>
    /// Whether an address a name resolved to may be used under <paramref name="rule"/>. A name the
    /// operator listed exactly is trusted (<c>localhost</c> for a local model); a name matched only
    /// by a wildcard must not lead to this machine or its link (loopback, unspecified, link-local
    /// such as a cloud metadata service, multicast): whoever controls DNS below a wildcard
    /// (<c>*.example.org</c>) could otherwise point a name at the server's own ports.
    /// </summary>
    public static bool MayConnectTo(EgressRule rule, IPAddress address)
    {
        if (!rule.IsWildcard)
        {
            return true;
        }

        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return b[0] != 0 && !(b[0] == 169 && b[1] == 254) && b[0] < 224;
        }

        return !(a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6Multicast);
    }

    /// <summary>
    /// The model endpoints of Codex and Claude Code: the host and port of <c>BaseUrl</c> (the
    /// scheme's default port when it names none), else <c>api.openai.com:443</c> and
    /// <c>api.anthropic.com:443</c>. A <c>BaseUrl</c> that is not an absolute http(s) URL throws
    /// <see cref="FormatException"/>.
    /// </summary>
    public static IReadOnlyList<EgressEndpoint> ModelEndpoints(HarnessOptions harnesses) =>
    [
        Endpoint("codex", harnesses.Codex.BaseUrl, OpenAiHost),
        Endpoint("claude-code", harnesses.ClaudeCode.BaseUrl, AnthropicHost),
    ];

    /// <summary>
    /// The policy for a sandbox: every model endpoint plus each <c>Sandbox:AllowedHosts</c> entry
    /// (see <see cref="EgressRule.TryParse"/>); a bad entry throws <see cref="FormatException"/>.
    /// </summary>
    public static EgressPolicy Create(IEnumerable<EgressEndpoint> modelEndpoints, IEnumerable<string> allowedHosts) =>
        new([.. modelEndpoints.Select(e => e.ToRule()), .. allowedHosts.Select(EgressRule.Parse)]);

    /// <summary><see cref="Create(IEnumerable{EgressEndpoint}, IEnumerable{string})"/> with both harnesses' endpoints.</summary>
    public static EgressPolicy Create(HarnessOptions harnesses, SandboxOptions sandbox) =>
        Create(ModelEndpoints(harnesses), sandbox.AllowedHosts);

    private static EgressEndpoint Endpoint(string harness, string? baseUrl, string vendorHost)
    {
        if (string.IsNullOrWhiteSpace(baseUrl))
        {
            return new EgressEndpoint(harness, vendorHost, 443);
        }

        if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || !EgressHost.TryNormalize(uri.Host.Trim('[', ']'), out var host, out _))
        {
            throw new FormatException($"{harness} BaseUrl '{baseUrl}' is not an absolute http(s) URL");
        }

        return new EgressEndpoint(harness, host, uri.Port);
    }
}
