using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] <c>GET /runs</c>: <c>{runs, nextCursor}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct RunListView(JsonElement Json)
{
    /// <summary>The runs, newest first (none when the field is missing or not an array).</summary>
    public IEnumerable<RunView> Runs => JsonFields.Items(Json, Names.Runs).Select(r => new RunView(r));

    public string? NextCursor => JsonFields.Text(Json, Names.NextCursor);

    /// <summary>The field names of the run list on the wire.</summary>
    public static class Names
    {
        public const string Runs = "runs";
        public const string NextCursor = "nextCursor";
    }
}
