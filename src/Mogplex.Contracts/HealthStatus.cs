namespace Mogplex.Contracts;

/// <summary>The body of <c>GET /healthz</c>.</summary>
public sealed record HealthStatus(string Status, string Version)
{
    /// <summary>[beyond] How runs are confined on this node (mogplexd only).</summary>
    [System.Text.Json.Serialization.JsonPropertyOrder(1)]
    public SandboxHealth? Sandbox { get; init; }
}

/// <summary>
/// [beyond] <c>isolation</c>: <c>bwrap</c>, <c>none</c> (explicitly unconfined) or <c>unavailable</c>
/// (harnesses refused); <c>network</c>: <c>none</c>, <c>model</c> or <c>host</c>; <c>limits</c>:
/// <c>cgroup-v2</c>, <c>cgroup-v1</c> or <c>rlimits</c>; <c>warning</c> when runs are not confined.
/// </summary>
public sealed record SandboxHealth(string Isolation, string Network, string Limits, string? Warning);
