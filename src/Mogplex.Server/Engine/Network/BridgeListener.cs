namespace Mogplex.Server.Engine.Network;

/// <summary>
/// One listener of the in-sandbox bridge: TCP <paramref name="Address"/>:<paramref name="Port"/>
/// inside the sandbox's network namespace, forwarded to the Unix socket at
/// <paramref name="SocketPath"/> (the path as the sandbox sees it). <paramref name="Address"/> is
/// <c>127.0.0.1</c> or <c>::1</c>.
/// </summary>
public sealed record BridgeListener(int Port, string SocketPath, string Address = "127.0.0.1");
