using System.Globalization;
using Mogplex.Server.Engine.Isolation;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// The network of one run with <c>Sandbox:Network=model</c>: an <see cref="EgressProxy"/> for the
/// model endpoints and <c>Sandbox:AllowedHosts</c>, and a <see cref="LoopbackForward"/> per model
/// endpoint on this machine's loopback, each on a Unix socket in a folder of the server's that is
/// bound into the sandbox; inside, socat listens on 127.0.0.1 (<see cref="SandboxNetworkBridge"/>)
/// and the proxy variables point at it. Disposed with the run: every tunnel closes, the folder goes.
/// </summary>
public sealed class RunEgress : IAsyncDisposable
{
    /// <summary>The proxy's port inside the sandbox (another when a model endpoint uses it).</summary>
    public const int ProxyPort = 3128;

    private readonly string _directory;
    private readonly List<IAsyncDisposable> _listeners;

    private RunEgress(string directory, List<IAsyncDisposable> listeners, EgressBridge bridge, IReadOnlyDictionary<string, string> environment)
    {
        _directory = directory;
        _listeners = listeners;
        Bridge = bridge;
        Environment = environment;
    }

    public EgressBridge Bridge { get; }

    /// <summary>HTTP(S)_PROXY to the bridge, NO_PROXY for loopback (its model endpoints have forwards of their own).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public static RunEgress Start(string directory, EgressPolicy policy, IReadOnlyList<EgressEndpoint> models, Action<string, int> onRefused)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("sandboxes need Linux");
        }

        Mogplex.Server.Engine.Sandboxes.SandboxGit.DeleteEntry(directory);
        // Traversable, not listable: the sandbox's uid connects to the sockets by name.
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var listeners = new List<IAsyncDisposable>();
        var ports = new List<BridgePort>();
        try
        {
            foreach (var model in models.Where(m => m.IsLoopback).DistinctBy(m => m.Port))
            {
                var socket = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"fwd-{model.Port}.sock"));
                listeners.Add(LoopbackForward.Start(socket, model.Host == "localhost" ? "127.0.0.1" : model.Host, model.Port));
                Open(socket);
                ports.Add(new BridgePort(model.Port, socket));
            }

            var proxyPort = ProxyPort;
            while (ports.Any(p => p.Port == proxyPort))
            {
                proxyPort++;
            }

            var proxySocket = Path.Combine(directory, "egress.sock");
            listeners.Add(EgressProxy.Start(proxySocket, policy, onRefused));
            Open(proxySocket);
            ports.Add(new BridgePort(proxyPort, proxySocket));
            var proxy = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{proxyPort}");
            var env = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["HTTP_PROXY"] = proxy,
                ["HTTPS_PROXY"] = proxy,
                ["http_proxy"] = proxy,
                ["https_proxy"] = proxy,
                ["NO_PROXY"] = "localhost,127.0.0.1,::1",
                ["no_proxy"] = "localhost,127.0.0.1,::1",
            };
            return new RunEgress(directory, listeners, new EgressBridge(directory, ports), env);
        }
        catch
        {
            foreach (var l in listeners)
            {
                l.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners)
        {
            await l.DisposeAsync();
        }

        Mogplex.Server.Engine.Sandboxes.SandboxGit.DeleteEntry(_directory);
    }

    /// <summary>Connecting to a Unix socket takes write permission on it: any uid that reaches the folder (only the sandbox's mount does).</summary>
    private static void Open(string socket)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(socket, (UnixFileMode)0b110_110_110);
        }
    }
}
