using System.Net;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A harness's model endpoint: the host (canonical, see <see cref="EgressHost"/>) and port of its
/// <c>BaseUrl</c>, or the vendor's API when none is set.
/// </summary>
public sealed record EgressEndpoint(string Harness, string Host, int Port)
{
    /// <summary>
    /// On this machine's loopback (<c>localhost</c>, <c>127.0.0.0/8</c>, <c>::1</c>): clients in the
    /// sandbox may bypass the proxy for it (<c>NO_PROXY</c>), so it gets a <see cref="LoopbackForward"/>.
    /// </summary>
    public bool IsLoopback => Host == "localhost" || (IPAddress.TryParse(Host, out var a) && IPAddress.IsLoopback(a));

    public EgressRule ToRule() => EgressRule.For(Host, Port);

    public override string ToString() => EgressHost.Format(Host, Port);
}
