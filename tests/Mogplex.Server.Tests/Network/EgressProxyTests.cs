using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mogplex.Server.Engine.Network;
using Mogplex.Server.Tests.Infrastructure;
using static Mogplex.Server.Tests.Network.NetworkTestKit;

namespace Mogplex.Server.Tests.Network;

/// <summary>The egress proxy on a real Unix socket, against real TCP servers on 127.0.0.1.</summary>
public sealed class EgressProxyTests : IAsyncDisposable
{
    private readonly string _dir = TempFolder();
    private readonly ConcurrentQueue<(string Host, int Port)> _refused = new();
    private readonly List<IAsyncDisposable> _owned = [];

    private string SocketPath => Path.Combine(_dir, "egress.sock");

    public async ValueTask DisposeAsync()
    {
        foreach (var o in Enumerable.Reverse(_owned))
        {
            await o.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private EgressProxy Start(EgressProxyOptions? options, params string[] allowed)
    {
        var proxy = EgressProxy.Start(SocketPath, new EgressPolicy(allowed.Select(EgressRule.Parse)), (h, p) => _refused.Enqueue((h, p)), options);
        _owned.Add(proxy);
        return proxy;
    }

    private EgressProxy Start(params string[] allowed) => Start(null, allowed);

    private T Own<T>(T d)
        where T : IAsyncDisposable
    {
        _owned.Add(d);
        return d;
    }

    /// <summary>A TCP listener that never accepts: whether anyone connected shows as a pending connection.</summary>
    private static TcpListener Forbidden()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return l;
    }

    private static int PortOf(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port;

    [Fact]
    public async Task Connect_AllowedDestination_TunnelsBothWays()
    {
        var echo = Own(new EchoServer());
        Start($"127.0.0.1:{echo.Port}");

        using var tunnel = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");
        await SendAsync(tunnel, "ping\n");
        Assert.Equal("ping\n", await ReadAsync(tunnel, "\n"));
        await SendAsync(tunnel, "pong\n");
        Assert.Equal("pong\n", await ReadAsync(tunnel, "\n"));
        Assert.Empty(_refused);
    }

    [Fact]
    public async Task Connect_BytesSentWithTheHead_ReachTheDestination()
    {
        var echo = Own(new EchoServer());
        Start($"127.0.0.1:{echo.Port}");

        using var s = await ConnectUnixAsync(SocketPath);
        await SendAsync(s, $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\n\r\nearly-bytes");
        var answer = await ReadAsync(s, "early-bytes");

        Assert.Equal("HTTP/1.1 200 Connection established\r\n\r\nearly-bytes", answer);
    }

    [Fact]
    public async Task Connect_SpellingVariantsOfAnAllowedName_Allowed()
    {
        var echo = Own(new EchoServer());
        Start($"localhost:{echo.Port}");

        using var tunnel = await TunnelAsync(SocketPath, $"LocalHost.:{echo.Port}");
        await SendAsync(tunnel, "x");
        Assert.Equal("x", await ReadAsync(tunnel, "x"));
    }

    public static TheoryData<string> Tricks() => new()
    {
        "127.0.0.1:{0}",
        "localhost:{0}",
        "LOCALHOST.:{0}",
        "127.1:{0}",
        "2130706433:{0}",
        "[::ffff:127.0.0.1]:{0}",
        "0.0.0.0:{0}",
        "127.0.0.2:{0}",
    };

    [Theory]
    [MemberData(nameof(Tricks))]
    public async Task Connect_OtherLoopbackPort_403ReportedAndNeverConnected(string target)
    {
        var allowed = Own(new EchoServer());
        using var forbidden = new Disposer(Forbidden());
        var port = PortOf(forbidden.Listener);
        Start($"127.0.0.1:{allowed.Port}", $"localhost:{allowed.Port}");

        var answer = await ExchangeAsync(SocketPath, $"CONNECT {string.Format(System.Globalization.CultureInfo.InvariantCulture, target, port)} HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("not an allowed destination", answer, StringComparison.Ordinal);
        Assert.Equal(port, Assert.Single(_refused).Port);
        Assert.False(forbidden.Listener.Pending(), "the proxy connected to a destination it refused");
    }

    [Fact]
    public async Task Connect_Refused_CallbackNamesCanonicalHost()
    {
        Start("127.0.0.1:9");

        var answer = await ExchangeAsync(SocketPath, "CONNECT Evil.Example.COM.:443 HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 ", answer, StringComparison.Ordinal);
        Assert.Equal(("evil.example.com", 443), Assert.Single(_refused));
    }

    [Fact]
    public async Task Connect_AllowedButNothingListens_502()
    {
        var port = ClosedPort();
        Start($"127.0.0.1:{port}");

        var answer = await ExchangeAsync(SocketPath, $"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 Bad Gateway\r\n", answer, StringComparison.Ordinal);
        Assert.Empty(_refused);
    }

    [Fact]
    public async Task Get_AbsoluteFormToAllowedServer_ForwardedInOriginForm()
    {
        var http = Own(new HttpResponder());
        Start($"127.0.0.1:{http.Port}");

        var answer = await ExchangeAsync(SocketPath,
            $"GET http://127.0.0.1:{http.Port}/v1/models?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{http.Port}\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith(http.Body, answer, StringComparison.Ordinal);
        Assert.True(http.Heads.TryDequeue(out var head));
        Assert.Equal($"GET /v1/models?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{http.Port}\r\nAccept: */*\r\nConnection: close\r\n\r\n", head);
    }

    [Fact]
    public async Task Get_HostHeaderNamesTheAllowedServer_RequestLineDecides()
    {
        var http = Own(new HttpResponder());
        using var forbidden = new Disposer(Forbidden());
        var port = PortOf(forbidden.Listener);
        Start($"127.0.0.1:{http.Port}");

        var answer = await ExchangeAsync(SocketPath, $"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{http.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 ", answer, StringComparison.Ordinal);
        Assert.Equal(("127.0.0.1", port), Assert.Single(_refused));
        Assert.False(forbidden.Listener.Pending(), "the proxy connected to the request line's forbidden target");
    }

    [Fact]
    public async Task Get_HostHeaderNamesAForbiddenServer_ForwardedToTheTargetWithItsHost()
    {
        var http = Own(new HttpResponder());
        Start($"127.0.0.1:{http.Port}");

        var answer = await ExchangeAsync(SocketPath, $"GET http://127.0.0.1:{http.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:7421\r\n\r\n");

        Assert.EndsWith(http.Body, answer, StringComparison.Ordinal);
        Assert.True(http.Heads.TryDequeue(out var head));
        Assert.Contains($"\r\nHost: 127.0.0.1:{http.Port}\r\n", head, StringComparison.Ordinal);
        Assert.DoesNotContain("7421", head, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n")]
    [InlineData("GET http://127.0.0.1:1@127.0.0.1:{0}/ HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://127.0.0.1:{0}/ HTTP/1.1\nHost: x\n\n\r\n\r\n")]
    public async Task Malformed_400AndNeverConnected(string request)
    {
        using var target = new Disposer(Forbidden());
        var port = PortOf(target.Listener);
        Start($"127.0.0.1:{port}");

        var answer = await ExchangeAsync(SocketPath, string.Format(System.Globalization.CultureInfo.InvariantCulture, request, port));

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer, StringComparison.Ordinal);
        Assert.False(target.Listener.Pending());
    }

    [Fact]
    public async Task OversizedHead_431AndNeverConnected()
    {
        using var target = new Disposer(Forbidden());
        var port = PortOf(target.Listener);
        Start($"127.0.0.1:{port}");

        var answer = await ExchangeAsync(SocketPath, $"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nX-Pad: {new string('a', 16 * 1024)}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 431 ", answer, StringComparison.Ordinal);
        Assert.False(target.Listener.Pending());
    }

    [Fact]
    public async Task HeadNeverFinished_408()
    {
        Start(new EgressProxyOptions { HeadTimeout = TimeSpan.FromMilliseconds(200) }, "127.0.0.1:9");

        using var s = await ConnectUnixAsync(SocketPath);
        await SendAsync(s, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n");
        var answer = await ReadAsync(s);

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionsOverTheCap_503UntilOneEnds()
    {
        var echo = Own(new EchoServer());
        var proxy = Start(new EgressProxyOptions { MaxConnections = 2 }, $"127.0.0.1:{echo.Port}");
        var first = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");
        using var second = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");

        var answer = await ExchangeAsync(SocketPath, $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 503 ", answer, StringComparison.Ordinal);

        first.Dispose();
        await Waits.UntilAsync(() => Task.FromResult(proxy.ActiveConnections), n => n == 1, what: "the closed tunnel to free its slot");
        using var third = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");
        await SendAsync(third, "ok");
        Assert.Equal("ok", await ReadAsync(third, "ok"));
    }

    /// <summary>
    /// Over the cap, a client that is still sending its request (a large one, or slowly) reads the
    /// 503 instead of failing with a broken pipe; a flood of rejected connections that never send
    /// or close holds the server neither up nor open.
    /// </summary>
    [Fact]
    public async Task OverTheCap_ALargeRequestStillGetsThe503_AFloodOfSilentOnesIsBounded()
    {
        var echo = Own(new EchoServer());
        var proxy = Start(new EgressProxyOptions { MaxConnections = 1 }, $"127.0.0.1:{echo.Port}");
        var first = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");

        var large = $"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nX-Padding: {new string('p', 32 * 1024)}\r\n\r\n";
        Assert.StartsWith("HTTP/1.1 503 ", await ExchangeAsync(SocketPath, large), StringComparison.Ordinal);

        var silent = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                silent.Add(await ConnectUnixAsync(SocketPath));
            }

            // Each silent one got its answer and is closed within the drain time, whatever it does.
            foreach (var socket in silent.Take(5))
            {
                Assert.StartsWith("HTTP/1.1 503 ", await ReadAsync(socket), StringComparison.Ordinal);
            }

            first.Dispose();
            await Waits.UntilAsync(() => Task.FromResult(proxy.ActiveConnections), n => n == 0, what: "the closed tunnel to free its slot");
            using var next = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");
            await SendAsync(next, "still serving");
            Assert.Equal("still serving", await ReadAsync(next, "still serving"));
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Dispose_ClosesOpenTunnelsAndDeletesTheSocket()
    {
        var echo = Own(new EchoServer());
        var proxy = EgressProxy.Start(SocketPath, new EgressPolicy([EgressRule.Parse($"127.0.0.1:{echo.Port}")]));
        using var tunnel = await TunnelAsync(SocketPath, $"127.0.0.1:{echo.Port}");
        using var idle = await ConnectUnixAsync(SocketPath);
        await SendAsync(tunnel, "x");
        Assert.Equal("x", await ReadAsync(tunnel, "x"));

        await proxy.DisposeAsync().AsTask().WaitAsync(IoTimeout, ServerFixture.Ct);

        Assert.Equal("", await ReadAsync(tunnel));
        Assert.Equal("", await ReadAsync(idle));
        await Waits.UntilAsync(() => Task.FromResult(echo.Ended), n => n == 1, what: "the upstream side of the tunnel to close");
        Assert.False(File.Exists(SocketPath));
        Assert.Equal(0, proxy.ActiveConnections);
    }

    /// <summary>Stops a listener at the end of a test.</summary>
    private sealed class Disposer(TcpListener listener) : IDisposable
    {
        public TcpListener Listener => listener;

        public void Dispose() => listener.Stop();
    }
}
