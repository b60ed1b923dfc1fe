using Mogplex.Server.Engine.Network;
using Mogplex.Server.Tests.Infrastructure;
using static Mogplex.Server.Tests.Network.NetworkTestKit;

namespace Mogplex.Server.Tests.Network;

public sealed class LoopbackForwardTests : IAsyncDisposable
{
    private readonly string _dir = TempFolder();
    private readonly EchoServer _echo = new();

    private string SocketPath => Path.Combine(_dir, "model.sock");

    public async ValueTask DisposeAsync()
    {
        await _echo.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task EveryConnection_SplicedToTheFixedDestination(string host)
    {
        await using var forward = LoopbackForward.Start(SocketPath, host, _echo.Port);

        using var a = await ConnectUnixAsync(SocketPath);
        using var b = await ConnectUnixAsync(SocketPath);
        await SendAsync(a, "CONNECT 127.0.0.1:7421 HTTP/1.1\r\n\r\n");
        await SendAsync(b, "second");

        Assert.Equal("CONNECT 127.0.0.1:7421 HTTP/1.1\r\n\r\n", await ReadAsync(a, "\r\n\r\n"));
        Assert.Equal("second", await ReadAsync(b, "second"));
        Assert.Equal(2, _echo.Accepted);
    }

    [Fact]
    public async Task OverTheCap_ClosedUnanswered()
    {
        await using var forward = LoopbackForward.Start(SocketPath, new EgressEndpoint("codex", "127.0.0.1", _echo.Port), maxConnections: 1);
        using var first = await ConnectUnixAsync(SocketPath);
        await SendAsync(first, "1");
        Assert.Equal("1", await ReadAsync(first, "1"));

        using var second = await ConnectUnixAsync(SocketPath);
        Assert.Equal("", await ReadAsync(second));
        Assert.Equal(1, _echo.Accepted);
    }

    [Fact]
    public async Task Dispose_ClosesConnectionsAndDeletesTheSocket()
    {
        var forward = LoopbackForward.Start(SocketPath, "127.0.0.1", _echo.Port);
        using var c = await ConnectUnixAsync(SocketPath);
        await SendAsync(c, "x");
        Assert.Equal("x", await ReadAsync(c, "x"));

        await forward.DisposeAsync().AsTask().WaitAsync(IoTimeout, ServerFixture.Ct);

        Assert.Equal("", await ReadAsync(c));
        await Waits.UntilAsync(() => Task.FromResult(_echo.Ended), n => n == 1, what: "the upstream connection to close");
        Assert.False(File.Exists(SocketPath));
    }
}
