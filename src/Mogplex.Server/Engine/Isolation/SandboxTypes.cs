namespace Mogplex.Server.Engine.Isolation;

/// <summary>An unprivileged host account a sandbox runs as (a uid of <c>Sandbox:UidRange</c>, no login, no home on the host).</summary>
public sealed record SandboxUser(int Uid, int Gid);

/// <summary><c>Sandbox:Network</c>: what a sandbox may reach.</summary>
public enum SandboxNetworkMode
{
    /// <summary>Its own network namespace with loopback only: nothing outside is reachable.</summary>
    None,

    /// <summary>Its own network namespace; the model endpoints and the operator's allowlist through the server's egress proxy.</summary>
    Model,

    /// <summary>The host's network, as the server sees it (explicit opt-in).</summary>
    Host,
}

/// <summary>One TCP port inside the sandbox's network namespace, forwarded to a Unix socket the server listens on.</summary>
public sealed record BridgePort(int Port, string SocketPath);

/// <summary>The listeners started inside the sandbox before the command (socat), and the folder holding their sockets.</summary>
public sealed record EgressBridge(string SocketDirectory, IReadOnlyList<BridgePort> Ports);

/// <summary>
/// What bounds one run: the control-group files its first process writes its pid into (so every
/// process it starts is counted), and rlimits (the fallback without control groups, and per-file
/// size always). Null fields are not set. <see cref="Started"/> is told the pid of each process
/// started with these limits (the run's watchdog counts its tasks where no control group does).
/// </summary>
public sealed record ResourceLimits(IReadOnlyList<string> CgroupProcFiles, long? Processes, long? FileBytes, long? DataBytes)
{
    public Action<int>? Started { get; init; }
}
