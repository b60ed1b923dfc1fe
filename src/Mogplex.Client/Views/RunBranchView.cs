using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>A run's <c>branch</c> object, read lazily from the JSON the server sent.</summary>
/// <param name="Json">The <c>branch</c> object as sent (undefined when the run has none).</param>
public readonly record struct RunBranchView(JsonElement Json)
{
    /// <summary>The base branch, or null.</summary>
    public string? Base => JsonFields.Text(Json, Names.Base);

    /// <summary>The working branch the agent commits to, or null.</summary>
    public string? Working => JsonFields.Text(Json, Names.Working);

    /// <summary>Whether the working branch was created from the base (JSON <c>true</c> only).</summary>
    public bool CreateBranch => JsonFields.Flag(Json, Names.CreateBranch);

    /// <summary>The field names of a run's branch on the wire.</summary>
    public static class Names
    {
        public const string Base = "base";
        public const string Working = "working";
        public const string CreateBranch = "createBranch";
    }
}
