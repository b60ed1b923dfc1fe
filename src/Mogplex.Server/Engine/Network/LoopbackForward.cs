using System.Net;
using System.Net.Sockets;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A Unix socket whose every connection is spliced to one fixed TCP destination: a model endpoint
/// on this machine's loopback, which clients in the sandbox reach directly (bypassing the proxy,
/// <c>NO_PROXY</c>) through <see cref="SandboxNetworkBridge"/> listening on the same port there.
/// The destination comes from the server's configuration, never from the connection. At most
/// <c>maxConnections</c> at once (more are closed unanswered); disposal closes every connection
/// and deletes the socket file.
/// </summary>
public sealed class LoopbackForward : IAsyncDisposable
{
    private readonly UnixSocketServer _server;
    private readonly TimeSpan _connectTimeout;

    private LoopbackForward(string socketPath, string host, IPAddress? address, int port, int maxConnections, TimeSpan connectTimeout)
    {
        Host = host;
        Port = port;
        _connectTimeout = connectTimeout;
        _server = UnixSocketServer.Start(socketPath, maxConnections, (client, stop) => HandleAsync(client, address, stop));
    }

    public string SocketPath => _server.Path;

    /// <summary>The destination host (canonical, see <see cref="EgressHost"/>).</summary>
    public string Host { get; }

    public int Port { get; }

    public int ActiveConnections => _server.ActiveConnections;

    /// <summary>
    /// Listens on <paramref name="socketPath"/> (a leftover file there is replaced; mode 0666) and
    /// forwards to <paramref name="host"/>:<paramref name="port"/> (a name is resolved per connection).
    /// </summary>
    public static LoopbackForward Start(string socketPath, string host, int port, int maxConnections = 64, TimeSpan? connectTimeout = null)
    {
        if (!EgressHost.TryNormalize(host, out var normalized, out var address) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{host}' port {port} is not a valid destination", nameof(host));
        }

        return new LoopbackForward(socketPath, normalized, address, port, maxConnections, connectTimeout ?? TimeSpan.FromSeconds(15));
    }

    /// <summary>Forwards to a model endpoint (see <see cref="EgressEndpoint.IsLoopback"/>).</summary>
    public static LoopbackForward Start(string socketPath, EgressEndpoint endpoint, int maxConnections = 64) =>
        Start(socketPath, endpoint.Host, endpoint.Port, maxConnections);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(Socket client, IPAddress? address, CancellationToken stop)
    {
        Socket? upstream;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            timeout.CancelAfter(_connectTimeout);
            try
            {
                var addresses = address is not null ? [address] : await Dns.GetHostAddressesAsync(Host, timeout.Token);
                upstream = await Splice.ConnectAsync(addresses, Port, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !stop.IsCancellationRequested)
            {
                upstream = null;
            }
        }

        if (upstream is null)
        {
            // The client sees its connection closed, as it would with the port closed.
            return;
        }

        using (upstream)
        {
            await Splice.RunAsync(client, upstream, ReadOnlyMemory<byte>.Empty, endWithUpstream: false, stop);
        }
    }
}
