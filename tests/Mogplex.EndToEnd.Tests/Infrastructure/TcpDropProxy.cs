using System.Net;
using System.Net.Sockets;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on 127.0.0.1 in front of a loopback server, whose open connections a test can
/// cut (<see cref="DropConnections"/>) to play a network that drops a long-lived response: the
/// server and its runs go on, the client has to reconnect. Counts the connections it accepted.
/// </summary>
public sealed class TcpDropProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _open = [];
    private readonly Task _accepting;
    private int _accepted;

    public TcpDropProxy(Uri upstream)
    {
        _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many client connections were accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Closes every connection open now, both ways; later connections are forwarded as usual.</summary>
    public int DropConnections()
    {
        List<(TcpClient Client, TcpClient Server)> open;
        lock (_lock)
        {
            open = [.. _open];
            _open.Clear();
        }

        foreach (var (client, server) in open)
        {
            client.Dispose();
            server.Dispose();
        }

        return open.Count;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropConnections();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException)
        {
            // Stopping the listener ends the accept loop with one of these.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            Interlocked.Increment(ref _accepted);
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_upstream, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_lock)
            {
                _open.Add((client, server));
            }

            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var input = from.GetStream();
            var output = to.GetStream();
            int read;
            while ((read = await input.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or SocketException)
        {
            // Dropped (by the test or either side): close both ends below.
        }

        from.Dispose();
        to.Dispose();
        lock (_lock)
        {
            _open.RemoveAll(c => c.Client == from || c.Client == to);
        }
    }
}
