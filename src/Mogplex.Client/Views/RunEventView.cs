using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>One event of a run, read lazily; <see cref="Json"/> is the event unchanged.</summary>
/// <param name="Json">The event object as sent.</param>
public readonly record struct RunEventView(JsonElement Json)
{
    public string? Id => JsonFields.Text(Json, Names.Id);

    /// <summary>The event type (<see cref="Contracts.Events.RunEventTypes"/>; new types may come).</summary>
    public string? Type => JsonFields.Text(Json, Names.Type);

    public string? ToolName => JsonFields.Text(Json, Names.ToolName);

    public string? Message => JsonFields.Text(Json, Names.Message);

    /// <summary>The time as sent (ISO-8601 UTC).</summary>
    public string? CreatedAt => JsonFields.Text(Json, Names.CreatedAt);

    /// <summary>The field names of an event on the wire.</summary>
    public static class Names
    {
        public const string Id = "id";
        public const string Type = "type";
        public const string ToolName = "toolName";
        public const string Message = "message";
        public const string CreatedAt = "createdAt";
    }
}
