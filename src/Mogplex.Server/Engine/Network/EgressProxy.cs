using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A sandbox's only way out: an HTTP proxy on a Unix socket (bound into the sandbox, bridged to
/// <c>127.0.0.1:port</c> there by <see cref="SandboxNetworkBridge"/>). It serves
/// <c>CONNECT host:port</c> (a tunnel) and absolute-form <c>http://</c> requests (forwarded in
/// origin form, one request per connection), to destinations its <see cref="EgressPolicy"/>
/// allows; anything else is answered 403 (and reported to <c>onRefused</c>), 400, 408, 431, 502
/// or 503, and the connection closed. It resolves names itself (the sandbox has no DNS) and
/// connects only to the address it checked. Disposal closes every connection and tunnel and
/// deletes the socket file.
/// </summary>
public sealed class EgressProxy : IAsyncDisposable
{
    private static readonly byte[] s_headEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_established = "HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray();

    private readonly EgressPolicy _policy;
    private readonly Action<string, int>? _onRefused;
    private readonly EgressProxyOptions _options;
    private readonly UnixSocketServer _server;

    private EgressProxy(string socketPath, EgressPolicy policy, Action<string, int>? onRefused, EgressProxyOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxHeadBytes, 64);
        _policy = policy;
        _onRefused = onRefused;
        _options = options;
        _server = UnixSocketServer.Start(socketPath, options.MaxConnections, HandleAsync,
            s => s.Send(Response(503, "Service Unavailable", $"mogplex egress proxy: more than {options.MaxConnections} connections at once")));
    }

    public string SocketPath => _server.Path;

    public EgressPolicy Policy => _policy;

    /// <summary>Connections being served now (request heads being read and open tunnels).</summary>
    public int ActiveConnections => _server.ActiveConnections;

    /// <summary>
    /// Listens on <paramref name="socketPath"/> (a leftover file there is replaced; the socket is
    /// mode 0666, so the folder decides who reaches it). <paramref name="onRefused"/> gets the
    /// canonical host and the port of each destination the policy refused; it runs on the
    /// connection's task and must not block.
    /// </summary>
    public static EgressProxy Start(string socketPath, EgressPolicy policy, Action<string, int>? onRefused = null, EgressProxyOptions? options = null) =>
        new(socketPath, policy, onRefused, options ?? new EgressProxyOptions());

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task HandleAsync(Socket client, CancellationToken stop)
    {
        var buffer = new byte[_options.MaxHeadBytes];
        int filled = 0, headLength;
        using (var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            headTimeout.CancelAfter(_options.HeadTimeout);
            try
            {
                while (true)
                {
                    if (filled == buffer.Length)
                    {
                        await RespondAsync(client, 431, "Request Header Fields Too Large", $"mogplex egress proxy: request head over {_options.MaxHeadBytes} bytes", stop);
                        return;
                    }

                    var n = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, headTimeout.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    var from = Math.Max(0, filled - (s_headEnd.Length - 1));
                    filled += n;
                    var end = buffer.AsSpan(from, filled - from).IndexOf(s_headEnd);
                    if (end >= 0)
                    {
                        headLength = from + end + s_headEnd.Length;
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                await RespondAsync(client, 408, "Request Timeout", "mogplex egress proxy: the request head took too long", stop);
                return;
            }
        }

        // The head without its final CRLF: every line, the request line included, ends in CRLF.
        if (!ProxyRequest.TryParse(buffer.AsSpan(0, headLength - 2), out var request, out var error))
        {
            await RespondAsync(client, 400, "Bad Request", "mogplex egress proxy: " + error, stop);
            return;
        }

        var destination = EgressHost.Format(request.Host, request.Port);
        var rule = _policy.Match(request.Host, request.Port);
        if (rule is null)
        {
            await RefuseAsync(client, request, $"mogplex egress proxy: {destination} is not an allowed destination (model endpoints and Sandbox:AllowedHosts)", stop);
            return;
        }

        Socket? upstream;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            connectTimeout.CancelAfter(_options.ConnectTimeout);
            IPAddress[] addresses;
            try
            {
                addresses = request.Address is { } literal ? [literal] : await Dns.GetHostAddressesAsync(request.Host, connectTimeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !stop.IsCancellationRequested)
            {
                await RespondAsync(client, 502, "Bad Gateway", $"mogplex egress proxy: cannot resolve {request.Host}", stop);
                return;
            }

            var usable = addresses.Where(a => EgressPolicy.MayConnectTo(rule, a)).ToArray();
            if (usable.Length == 0 && addresses.Length > 0)
            {
                await RefuseAsync(client, request, $"mogplex egress proxy: {destination} resolves to a loopback, link-local or multicast address, not allowed through wildcard {rule}", stop);
                return;
            }

            try
            {
                upstream = await Splice.ConnectAsync(usable, request.Port, connectTimeout.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                upstream = null;
            }
        }

        if (upstream is null)
        {
            await RespondAsync(client, 502, "Bad Gateway", $"mogplex egress proxy: cannot connect to {destination}", stop);
            return;
        }

        using (upstream)
        {
            var early = buffer.AsMemory(headLength, filled - headLength);
            if (request.IsConnect)
            {
                await Splice.SendAllAsync(client, s_established);
                await Splice.RunAsync(client, upstream, early, endWithUpstream: false, stop);
            }
            else
            {
                byte[] first = [.. request.ForwardHead(), .. early.Span];
                await Splice.RunAsync(client, upstream, first, endWithUpstream: true, stop);
            }
        }
    }

    private async Task RefuseAsync(Socket client, ProxyRequest request, string message, CancellationToken stop)
    {
        try
        {
            _onRefused?.Invoke(request.Host, request.Port);
        }
        catch (Exception)
        {
            // A faulty callback must not keep the client from its answer.
        }

        await RespondAsync(client, 403, "Forbidden", message, stop);
    }

    private static async Task RespondAsync(Socket client, int status, string reason, string message, CancellationToken stop)
    {
        await Splice.SendAllAsync(client, Response(status, reason, message));
        client.Shutdown(SocketShutdown.Send);

        // A lingering close: closing with unread input (a request body) can reset the connection
        // at the client's end before it reads the answer. Read what follows, bounded.
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(stop);
        linger.CancelAfter(TimeSpan.FromSeconds(2));
        var sink = new byte[4096];
        for (var total = 0; total < 64 * 1024;)
        {
            var n = await client.ReceiveAsync(sink, SocketFlags.None, linger.Token);
            if (n == 0)
            {
                return;
            }

            total += n;
        }
    }

    private static byte[] Response(int status, string reason, string message)
    {
        var body = message + "\n";
        return Encoding.UTF8.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}");
    }
}
