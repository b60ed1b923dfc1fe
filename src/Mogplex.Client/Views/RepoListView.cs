using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary><c>GET /repos</c>: <c>{repos}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct RepoListView(JsonElement Json)
{
    /// <summary>The repos (none when the field is not an array).</summary>
    public IEnumerable<RepoView> Repos => JsonFields.Items(Json, Names.Repos).Select(r => new RepoView(r));

    /// <summary>The field names of the repo list on the wire.</summary>
    public static class Names
    {
        public const string Repos = "repos";
    }
}
