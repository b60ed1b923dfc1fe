using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Mogplex.Server.Engine.Network;

/// <summary>Connecting upstream and copying bytes both ways between two sockets.</summary>
internal static class Splice
{
    private const int BufferBytes = 16 * 1024;

    /// <summary>The first of <paramref name="addresses"/> that accepts a TCP connection on <paramref name="port"/>, or <see langword="null"/>.</summary>
    public static async Task<Socket?> ConnectAsync(IEnumerable<IPAddress> addresses, int port, CancellationToken ct)
    {
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, port, ct);
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return null;
    }

    /// <summary>
    /// Copies <paramref name="client"/> ⇄ <paramref name="upstream"/> (after sending
    /// <paramref name="toUpstreamFirst"/>) until both directions ended. An end of input is passed
    /// on as a half-close; an error, <paramref name="ct"/>, or (with <paramref name="endWithUpstream"/>)
    /// the upstream's end closes both sockets.
    /// </summary>
    public static async Task RunAsync(Socket client, Socket upstream, ReadOnlyMemory<byte> toUpstreamFirst, bool endWithUpstream, CancellationToken ct)
    {
        void CloseBoth()
        {
            client.Dispose();
            upstream.Dispose();
        }

        using var stop = ct.Register(CloseBoth);
        var up = PumpAsync(client, upstream, toUpstreamFirst);
        var down = PumpAsync(upstream, client, ReadOnlyMemory<byte>.Empty);
        var first = await Task.WhenAny(up, down);
        if (first.IsFaulted || (endWithUpstream && first == down))
        {
            CloseBoth();
        }

        try
        {
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // One side reset or was closed above; both sockets are done either way.
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, ReadOnlyMemory<byte> first)
    {
        await Task.Yield();
        if (!first.IsEmpty)
        {
            await SendAllAsync(to, first);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer.AsMemory(0, BufferBytes), SocketFlags.None)) > 0)
            {
                await SendAllAsync(to, buffer.AsMemory(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        to.Shutdown(SocketShutdown.Send);
    }

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None);
            data = data[sent..];
        }
    }
}
