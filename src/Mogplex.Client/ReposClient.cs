using System.Text.Json;
using Mogplex.Contracts;

namespace Mogplex.Client;

/// <summary><c>GET /repos</c>.</summary>
public sealed class ReposClient(MogplexClient client)
{
    /// <summary>The <c>repos</c> array of the answer.</summary>
    public async Task<JsonElement> ListAsync(string? query, int? limit, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Get, ApiRoutes.Repos, ("q", query), ("limit", MogplexClient.Number(limit)));
        var data = await client.SendAsync(request, ct);
        return MogplexClient.Field(data, "repos");
    }
}
