using Mogplex.Client.Views;
using Mogplex.Contracts;

namespace Mogplex.Client;

/// <summary><c>GET /repos</c>.</summary>
public sealed class ReposClient(MogplexClient client)
{
    /// <summary>The answer, <c>{repos}</c>; one without a <c>repos</c> field is not this API's (an <see cref="ApiException"/>).</summary>
    public async Task<RepoListView> ListAsync(string? query, int? limit, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Get, ApiRoutes.Repos, ("q", query), ("limit", MogplexClient.Number(limit)));
        var data = await client.SendAsync(request, ct);
        MogplexClient.Field(data, RepoListView.Names.Repos);
        return new RepoListView(data);
    }
}
