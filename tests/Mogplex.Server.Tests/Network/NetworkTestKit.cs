using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Network;

/// <summary>Real sockets for the network tests: TCP servers on 127.0.0.1, Unix-socket clients, a temp folder.</summary>
public static class NetworkTestKit
{
    public static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A fresh folder for sockets (short, under /tmp: a Unix socket path has at most 107 bytes).</summary>
    public static string TempFolder() => Directory.CreateTempSubdirectory("mogplex-net-").FullName;

    /// <summary>A port where nothing listens (bound once, then released).</summary>
    public static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static async Task<Socket> ConnectUnixAsync(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(path), ServerFixture.Ct).AsTask().WaitAsync(IoTimeout, ServerFixture.Ct);
        return s;
    }

    public static Task SendAsync(Socket s, string text) => SendAsync(s, Encoding.Latin1.GetBytes(text));

    public static async Task SendAsync(Socket s, byte[] data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            sent += await s.SendAsync(data.AsMemory(sent), SocketFlags.None, ServerFixture.Ct).AsTask().WaitAsync(IoTimeout, ServerFixture.Ct);
        }
    }

    /// <summary>Reads until the peer closes (or <paramref name="until"/> appears in what was read).</summary>
    public static async Task<string> ReadAsync(Socket s, string? until = null)
    {
        var sb = new StringBuilder();
        var buffer = new byte[8192];
        while (until is null || !sb.ToString().Contains(until, StringComparison.Ordinal))
        {
            int n;
            try
            {
                n = await s.ReceiveAsync(buffer, SocketFlags.None, ServerFixture.Ct).AsTask().WaitAsync(IoTimeout, ServerFixture.Ct);
            }
            catch (SocketException)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            sb.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }

        return sb.ToString();
    }

    /// <summary>Sends <paramref name="request"/> through the proxy at <paramref name="proxySocket"/> and reads the whole answer.</summary>
    public static async Task<string> ExchangeAsync(string proxySocket, string request)
    {
        using var s = await ConnectUnixAsync(proxySocket);
        await SendAsync(s, request);
        return await ReadAsync(s);
    }

    /// <summary>Opens a CONNECT tunnel and returns the socket once the proxy answered 200.</summary>
    public static async Task<Socket> TunnelAsync(string proxySocket, string authority)
    {
        var s = await ConnectUnixAsync(proxySocket);
        await SendAsync(s, $"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
        var answer = await ReadAsync(s, "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        return s;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> argv)
    {
        var args = argv.ToList();
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(ServerFixture.Ct);
        var stderr = p.StandardError.ReadToEndAsync(ServerFixture.Ct);
        try
        {
            await p.WaitForExitAsync(ServerFixture.Ct).WaitAsync(TimeSpan.FromSeconds(60), ServerFixture.Ct);
        }
        catch (TimeoutException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }

        return (p.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A TCP server on 127.0.0.1 that echoes every connection; counts the connections it accepted and saw end.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _accepted;
    private int _ended;

    public EchoServer()
    {
        _listener.Start();
        _loop = LoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    public int Ended => Volatile.Read(ref _ended);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            Socket s;
            try
            {
                s = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Stopped: a stop between two accepts makes the next one "not listening".
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = EchoAsync(s);
        }
    }

    private async Task EchoAsync(Socket s)
    {
        using (s)
        {
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await s.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
                {
                    await s.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }

        Interlocked.Increment(ref _ended);
    }
}

/// <summary>An HTTP/1.1 responder on 127.0.0.1: records each request head, answers <c>hello from PORT</c> and closes.</summary>
public sealed class HttpResponder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HttpResponder()
    {
        _listener.Start();
        _loop = LoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Body => $"hello from {Port}";

    public ConcurrentQueue<string> Heads { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            Socket s;
            try
            {
                s = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = AnswerAsync(s);
        }
    }

    private async Task AnswerAsync(Socket s)
    {
        using (s)
        {
            try
            {
                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await s.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }

                Heads.Enqueue(head.ToString());
                var body = Encoding.UTF8.GetBytes(Body);
                var response = Encoding.UTF8.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await s.SendAsync((byte[])[.. response, .. body], SocketFlags.None, _stop.Token);
                s.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }
    }
}
