using Mogplex.Storage;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>Entries of a sandbox's lifecycle log (<c>GET /sandboxes/{id}/logs</c>).</summary>
public static class SandboxLifecycle
{
    public static SandboxLifecycleRecord Record(string sandboxId, string type, string? decision, DateTimeOffset at, string? workerRunId = null, string? payloadJson = null) =>
        new(Guid.CreateVersion7(at).ToString(), sandboxId, type, decision, workerRunId, payloadJson, at);
}
