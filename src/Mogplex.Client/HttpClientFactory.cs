using System.Net;
using System.Net.Sockets;

namespace Mogplex.Client;

/// <summary>Builds the one <see cref="HttpClient"/> a CLI process uses, over TCP or a Unix socket.</summary>
public static class HttpClientFactory
{
    public static HttpClient Create(ServerAddress address, string userAgent, HttpMessageHandler? handler = null)
    {
        handler ??= CreateHandler(address);
        var client = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = address.BaseUri,
            // Streams are long-lived; each call bounds its own wait (see MogplexClient).
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        return client;
    }

    private static SocketsHttpHandler CreateHandler(ServerAddress address)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = address.SocketPath is null,
            AllowAutoRedirect = false,
        };
        if (address.SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return handler;
    }
}
