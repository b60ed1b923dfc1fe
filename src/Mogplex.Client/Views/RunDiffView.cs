using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] <c>GET /runs/{id}/diff</c>: <c>{base, head, files, patch, truncated}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct RunDiffView(JsonElement Json)
{
    public string? Base => JsonFields.Text(Json, Names.Base);

    public string? Head => JsonFields.Text(Json, Names.Head);

    /// <summary>The changed files (none when the field is missing or not an array).</summary>
    /// <exception cref="InvalidOperationException">The answer is not a JSON object.</exception>
    public IReadOnlyList<RunDiffFileView> Files => [.. JsonFields.ItemsOfObject(Json, Names.Files).Select(f => new RunDiffFileView(f))];

    /// <summary>The patch as git wrote it, or null.</summary>
    public string? Patch => JsonFields.Text(Json, Names.Patch);

    /// <summary>The patch was cut at the server's limit.</summary>
    public bool Truncated => JsonFields.Flag(Json, Names.Truncated);

    /// <summary>The field names of the diff on the wire.</summary>
    public static class Names
    {
        public const string Base = "base";
        public const string Head = "head";
        public const string Files = "files";
        public const string Patch = "patch";
        public const string Truncated = "truncated";
    }
}
