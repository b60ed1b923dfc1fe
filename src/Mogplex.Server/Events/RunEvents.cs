using System.Text.Json;
using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Events;

/// <summary>
/// The only way the server builds an event to store: every message and payload passes the
/// sanitizer here, so nothing secret can reach the database.
/// </summary>
public sealed class RunEvents(EventSanitizer sanitizer)
{
    public EventSanitizer Sanitizer => sanitizer;

    /// <summary>Events for one run whose harness was given these secret values.</summary>
    public RunEvents WithSecrets(IEnumerable<string> secrets) => new(sanitizer.WithSecrets(secrets));

    public NewRunEvent Create(string type, string? message, string? toolName = null, JsonNode? payload = null) =>
        new(type, sanitizer.SanitizeMessage(toolName), sanitizer.SanitizeMessage(message), sanitizer.SanitizePayload(payload)?.ToJsonString());

    /// <summary>Maps a stored event to the wire shape.</summary>
    public static RunEvent ToContract(RunEventRecord e) => new()
    {
        Id = e.Id,
        Type = e.Type,
        ToolName = e.ToolName,
        Message = e.Message,
        Payload = e.PayloadJson is null ? null : JsonDocument.Parse(e.PayloadJson).RootElement.Clone(),
        CreatedAt = e.CreatedAt,
        Seq = e.Seq,
    };
}
