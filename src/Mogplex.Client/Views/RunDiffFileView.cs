using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] One changed file of a run's diff, read lazily; <see cref="Json"/> is the entry unchanged.</summary>
/// <param name="Json">The file object as sent.</param>
public readonly record struct RunDiffFileView(JsonElement Json)
{
    /// <summary>The repo-relative path.</summary>
    public string? Path => JsonFields.Text(Json, Names.Path);

    /// <summary><c>added</c>, <c>modified</c>, <c>deleted</c> or <c>type_changed</c>.</summary>
    public string? Status => JsonFields.Text(Json, Names.Status);

    /// <summary>Added lines; null for a binary file (or when not sent as an integer).</summary>
    public int? Additions => JsonFields.Count(Json, Names.Additions);

    /// <summary>Removed lines; null for a binary file (or when not sent as an integer).</summary>
    public int? Deletions => JsonFields.Count(Json, Names.Deletions);

    /// <summary>The field names of a diff's file on the wire.</summary>
    public static class Names
    {
        public const string Path = "path";
        public const string Status = "status";
        public const string Additions = "additions";
        public const string Deletions = "deletions";
    }
}
