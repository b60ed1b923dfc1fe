using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// A broken or hostile HTTP/1.1 server on 127.0.0.1 for the CLI to talk to: each connection's
/// request head is read, then <see cref="Respond"/> answers it on the raw connection (an endless
/// body, a proxy's error page, or the real server behind it). Counts the connections and the
/// bytes its endless bodies got out.
/// </summary>
public sealed class HostileHttpServer : IAsyncDisposable
{
    /// <summary>What an endless body sends at most (the CLI under test stops long before).</summary>
    public const long EndlessBodyBytes = 1024L * 1024 * 1024;

    private const int MaxHeadBytes = 64 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Connection, Task> _respond;
    private readonly Task _accepting;
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _open = [];
    private int _accepted;
    private long _bodyBytesSent;

    /// <param name="respond">Answers one connection (<see cref="Connection.Index"/> counts from 0); the connection is closed after it.</param>
    public HostileHttpServer(Func<Connection, Task> respond)
    {
        _respond = respond;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The base URL (http, so the CLI needs <c>MOGPLEX_DEV=1</c>).</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Bytes of endless bodies written so far (including what still sits in socket buffers).</summary>
    public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

    /// <summary>One accepted connection, its request head read.</summary>
    public sealed class Connection(HostileHttpServer server, int index, NetworkStream stream, byte[] received, string head)
    {
        public int Index { get; } = index;

        /// <summary>The request line and headers, as sent.</summary>
        public string Head { get; } = head;

        public NetworkStream Stream { get; } = stream;

        /// <summary>A complete answer, then the connection closes.</summary>
        public async Task AnswerAsync(int status, string reason, string contentType, string body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            await WriteAsync($"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            await Stream.WriteAsync(bytes, server._stop.Token);
        }

        /// <summary>
        /// Headers without a length, <paramref name="prefix"/>, then <paramref name="filler"/> over
        /// and over (up to <see cref="EndlessBodyBytes"/>) for as long as the client reads.
        /// </summary>
        public async Task EndlessAsync(int status, string reason, string contentType, string prefix, string filler)
        {
            await WriteAsync($"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nConnection: close\r\n\r\n");
            await WriteAsync(prefix);
            var unit = Encoding.UTF8.GetBytes(filler);
            var chunk = new byte[64 * 1024 / unit.Length * unit.Length];
            for (var i = 0; i < chunk.Length; i += unit.Length)
            {
                unit.CopyTo(chunk, i);
            }

            for (long sent = 0; sent < EndlessBodyBytes; sent += chunk.Length)
            {
                await Stream.WriteAsync(chunk, server._stop.Token);
                Interlocked.Add(ref server._bodyBytesSent, chunk.Length);
            }
        }

        /// <summary>Passes the request (as received) to <paramref name="upstream"/> and its answer back, like a proxy.</summary>
        public async Task ForwardAsync(Uri upstream)
        {
            using var target = new TcpClient();
            await target.ConnectAsync(upstream.Host, upstream.Port, server._stop.Token);
            var upstreamStream = target.GetStream();
            await upstreamStream.WriteAsync(received, server._stop.Token);
            // Either side closing ends the exchange (the CLI exits; the server keeps idle connections open).
            await Task.WhenAny(Stream.CopyToAsync(upstreamStream, server._stop.Token), upstreamStream.CopyToAsync(Stream, server._stop.Token));
        }

        private async Task WriteAsync(string text) => await Stream.WriteAsync(Encoding.ASCII.GetBytes(text), server._stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        List<TcpClient> open;
        lock (_lock)
        {
            open = [.. _open];
        }

        foreach (var client in open)
        {
            client.Dispose();
        }

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
            var index = Interlocked.Increment(ref _accepted) - 1;
            lock (_lock)
            {
                _open.Add(client);
            }

            _ = ServeAsync(client, index);
        }
    }

    private async Task ServeAsync(TcpClient client, int index)
    {
        try
        {
            var stream = client.GetStream();
            var received = new MemoryStream();
            var buffer = new byte[4096];
            int end;
            while ((end = HeadEnd(received)) < 0)
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0 || received.Length > MaxHeadBytes)
                {
                    return;
                }

                received.Write(buffer, 0, read);
            }

            var head = Encoding.ASCII.GetString(received.GetBuffer(), 0, end);
            await _respond(new Connection(this, index, stream, received.ToArray(), head));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // The client went away (what a CLI that stops reading does), or the server stopped.
        }
        finally
        {
            client.Dispose();
            lock (_lock)
            {
                _open.Remove(client);
            }
        }
    }

    private static int HeadEnd(MemoryStream received)
    {
        var bytes = received.GetBuffer().AsSpan(0, (int)received.Length);
        var at = bytes.IndexOf("\r\n\r\n"u8);
        return at < 0 ? -1 : at + 4;
    }
}
