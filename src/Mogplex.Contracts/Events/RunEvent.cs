using System.Text.Json;

namespace Mogplex.Contracts.Events;

/// <summary>One event of a run, sanitized before it was stored.</summary>
public sealed record RunEvent
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public string? ToolName { get; init; }
    public string? Message { get; init; }
    public JsonElement? Payload { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>[beyond] the per-run sequence number (strictly increasing, no ties).</summary>
    public required long Seq { get; init; }
}
