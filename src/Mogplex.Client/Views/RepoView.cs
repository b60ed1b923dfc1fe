using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>A linked repository (snake_case on the wire), read lazily; <see cref="Json"/> is the repo unchanged.</summary>
/// <param name="Json">The repo object as sent.</param>
public readonly record struct RepoView(JsonElement Json)
{
    public string? Id => JsonFields.Text(Json, Names.Id);

    /// <summary><c>owner/name</c>.</summary>
    public string? FullName => JsonFields.Text(Json, Names.FullName);

    public string? DefaultBranch => JsonFields.Text(Json, Names.DefaultBranch);

    /// <summary>The monorepo subpath runs work in; empty or null for the repository root.</summary>
    public string? RootDirectory => JsonFields.Text(Json, Names.RootDirectory);

    /// <summary>The field names of a repo on the wire (as <see cref="Contracts.Repos.Repo"/>).</summary>
    public static class Names
    {
        public const string Id = "id";
        public const string FullName = "full_name";
        public const string DefaultBranch = "default_branch";
        public const string RootDirectory = "root_directory";
    }
}
