using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary><c>GET /runs/{id}/events</c>: <c>{run, events}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct RunEventsPageView(JsonElement Json)
{
    public RunView Run => new(JsonFields.Child(Json, RunView.Names.Envelope));

    /// <summary>The events, oldest first (none when the field is missing or not an array).</summary>
    public IEnumerable<RunEventView> Events => JsonFields.Items(Json, Names.Events).Select(e => new RunEventView(e));

    /// <summary>The field names of the events page on the wire (the run is <see cref="RunView.Names.Envelope"/>).</summary>
    public static class Names
    {
        public const string Events = "events";
    }
}
