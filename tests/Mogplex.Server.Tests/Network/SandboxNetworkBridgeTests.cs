using System.Collections.Concurrent;
using Mogplex.Server.Engine.Network;
using static Mogplex.Server.Tests.Network.NetworkTestKit;

namespace Mogplex.Server.Tests.Network;

/// <summary>
/// The whole path as a sandbox uses it: bubblewrap with its own network namespace (only
/// loopback), the bridge's socat listeners inside, the server's proxy and forward sockets bound
/// in, real curl as the client.
/// </summary>
public sealed class SandboxNetworkBridgeTests : IAsyncDisposable
{
    private const int ProxyPort = 3128;
    private readonly string _dir = TempFolder();
    private readonly HttpResponder _allowed = new();
    private readonly HttpResponder _forbidden = new();

    public async ValueTask DisposeAsync()
    {
        await _allowed.DisposeAsync();
        await _forbidden.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Runs <paramref name="script"/> in a bubblewrap sandbox with its own network, behind the bridge.</summary>
    private Task<(int ExitCode, string Stdout, string Stderr)> RunSandboxedAsync(IReadOnlyList<BridgeListener> listeners, string script, string socat = "socat") =>
        RunAsync([
            "bwrap", "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--bind", _dir, _dir, "--",
            .. SandboxNetworkBridge.Wrap(listeners, ["sh", "-c", script], socat: socat),
        ]);

    [Fact]
    public async Task Sandbox_ReachesAllowedServerOnlyThroughTheProxy()
    {
        var refused = new ConcurrentQueue<(string Host, int Port)>();
        var socket = Path.Combine(_dir, "egress.sock");
        await using var proxy = EgressProxy.Start(socket, new EgressPolicy([EgressRule.Parse($"127.0.0.1:{_allowed.Port}")]), (h, p) => refused.Enqueue((h, p)));
        var proxyUrl = $"http://127.0.0.1:{ProxyPort}";
        const string StatusFormat = "%{http_code}";

        var (code, stdout, stderr) = await RunSandboxedAsync([new BridgeListener(ProxyPort, socket)], $"""
            echo "plain:$(curl -s -x {proxyUrl} http://127.0.0.1:{_allowed.Port}/)"
            echo "tunnel:$(curl -s -p -x {proxyUrl} http://127.0.0.1:{_allowed.Port}/)"
            echo "forbidden:$(curl -s -o /dev/null -w '{StatusFormat}' -x {proxyUrl} http://127.0.0.1:{_forbidden.Port}/)"
            curl -s --max-time 10 http://127.0.0.1:{_forbidden.Port}/; echo "direct:$?"
            """);

        Assert.True(code == 0, stderr);
        Assert.Equal(
            [$"plain:{_allowed.Body}", $"tunnel:{_allowed.Body}", "forbidden:403", "direct:7"],
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(("127.0.0.1", _forbidden.Port), Assert.Single(refused));
        Assert.Empty(_forbidden.Heads);
        Assert.Equal(2, _allowed.Heads.Count);
    }

    [Fact]
    public async Task Sandbox_ReachesLoopbackModelDirectlyThroughItsForward()
    {
        var socket = Path.Combine(_dir, "model.sock");
        await using var forward = LoopbackForward.Start(socket, "127.0.0.1", _allowed.Port);

        var (code, stdout, stderr) = await RunSandboxedAsync(
            [new BridgeListener(_allowed.Port, socket), new BridgeListener(_allowed.Port, socket, "::1")],
            $"""
            echo "v4:$(curl -s --noproxy '*' http://127.0.0.1:{_allowed.Port}/v1/models)"
            echo "v6:$(curl -s --noproxy '*' 'http://[::1]:{_allowed.Port}/v1/models')"
            curl -s --noproxy '*' --max-time 10 http://127.0.0.1:{_forbidden.Port}/; echo "other:$?"
            """);

        Assert.True(code == 0, stderr);
        Assert.Equal([$"v4:{_allowed.Body}", $"v6:{_allowed.Body}", "other:7"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.All(_allowed.Heads, h => Assert.StartsWith("GET /v1/models HTTP/1.1\r\n", h, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SlowListener_CommandStartsOnlyOnceItListens()
    {
        var socket = Path.Combine(_dir, "model.sock");
        await using var forward = LoopbackForward.Start(socket, "127.0.0.1", _allowed.Port);
        var slowSocat = Path.Combine(_dir, "slow-socat");
        await File.WriteAllTextAsync(slowSocat, "#!/bin/sh\nsleep 1\nexec socat \"$@\"\n", Infrastructure.ServerFixture.Ct);
        File.SetUnixFileMode(slowSocat, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (code, stdout, stderr) = await RunSandboxedAsync(
            [new BridgeListener(_allowed.Port, socket)], $"exec curl -s --noproxy '*' http://127.0.0.1:{_allowed.Port}/", slowSocat);

        Assert.True(code == 0, stderr);
        Assert.Equal(_allowed.Body, stdout);
    }

    [Fact]
    public async Task ListenerThatCannotStart_FailsBeforeTheCommandRuns()
    {
        var socket = Path.Combine(_dir, "egress.sock");

        // A listener that exits at once (as socat does when it cannot listen, or is missing).
        var (code, stdout, stderr) = await RunSandboxedAsync([new BridgeListener(ProxyPort, socket)], "echo ran", socat: "/bin/false");

        Assert.Equal(SandboxNetworkBridge.FailedExitCode, code);
        Assert.DoesNotContain("ran", stdout, StringComparison.Ordinal);
        Assert.Contains("network bridge", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "/s/egress.sock", "127.0.0.1")]
    [InlineData(3128, "relative.sock", "127.0.0.1")]
    [InlineData(3128, "/s/a b.sock", "127.0.0.1")]
    [InlineData(3128, "/s/a,fork.sock", "127.0.0.1")]
    [InlineData(3128, "/s/egress.sock", "0.0.0.0")]
    public void Wrap_UnsafeListener_Refused(int port, string path, string address) =>
        Assert.Throws<ArgumentException>(() => SandboxNetworkBridge.Wrap([new BridgeListener(port, path, address)], ["true"]));

    [Fact]
    public void Wrap_TwoListenersOnOnePort_Refused() =>
        Assert.Throws<ArgumentException>(() => SandboxNetworkBridge.Wrap([new BridgeListener(3128, "/s/a.sock"), new BridgeListener(3128, "/s/b.sock")], ["true"]));
}
