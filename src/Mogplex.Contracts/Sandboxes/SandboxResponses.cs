using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Sandboxes;

/// <summary><c>GET /sandboxes</c>.</summary>
public sealed record SandboxList([property: JsonPropertyName("sandboxes")] IReadOnlyList<Sandbox> Sandboxes);

/// <summary><c>POST /sandboxes</c>.</summary>
public sealed record SandboxEnvelope([property: JsonPropertyName("sandbox")] Sandbox Sandbox);

/// <summary><c>GET /sandboxes/{id}/logs</c>.</summary>
public sealed record SandboxLogs(
    [property: JsonPropertyName("sandbox")] SandboxWithLogs Sandbox,
    [property: JsonPropertyName("lifecycle_events")] IReadOnlyList<SandboxLifecycleEvent> LifecycleEvents);

/// <summary>[beyond] <c>POST /sandboxes/{id}/stop</c>.</summary>
public sealed record StopSandboxResult(
    [property: JsonPropertyName("sandbox")] Sandbox Sandbox,
    [property: JsonPropertyName("alreadyStopped")] bool AlreadyStopped);
