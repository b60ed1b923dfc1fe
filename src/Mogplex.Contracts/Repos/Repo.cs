using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Repos;

/// <summary>A linked repository, snake_case on the wire.</summary>
public sealed record Repo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("full_name")] string FullName,
    [property: JsonPropertyName("installation_id")] long InstallationId,
    [property: JsonPropertyName("default_branch")] string DefaultBranch,
    [property: JsonPropertyName("root_directory")] string RootDirectory);

/// <summary><c>GET /repos</c>.</summary>
public sealed record RepoList([property: JsonPropertyName("repos")] IReadOnlyList<Repo> Repos);
