namespace Mogplex.Server.Engine.Network;

/// <summary>Bounds of one <see cref="EgressProxy"/>.</summary>
public sealed record EgressProxyOptions
{
    /// <summary>Largest request head (request line and headers); a larger one gets 431.</summary>
    public int MaxHeadBytes { get; init; } = 16 * 1024;

    /// <summary>How long a client may take to send its request head; then 408.</summary>
    public TimeSpan HeadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long resolving and connecting to the destination may take; then 502.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Connections served at once (open tunnels included); one more gets 503 and is closed.</summary>
    public int MaxConnections { get; init; } = 64;
}
