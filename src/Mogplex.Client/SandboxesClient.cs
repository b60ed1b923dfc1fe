using System.Net;
using Mogplex.Client.Views;
using Mogplex.Contracts;

namespace Mogplex.Client;

/// <summary><c>GET /sandboxes</c> and [beyond] <c>POST /sandboxes/{id}/stop</c>.</summary>
public sealed class SandboxesClient(MogplexClient client)
{
    /// <summary>The answer, <c>{sandboxes}</c>; one without a <c>sandboxes</c> field is not this API's (an <see cref="ApiException"/>).</summary>
    public async Task<SandboxListView> ListAsync(string? repoId, string? status, int? limit, CancellationToken ct)
    {
        using var request = client.NewRequest(
            HttpMethod.Get, ApiRoutes.Sandboxes, ("repo_id", repoId), ("status", status), ("limit", MogplexClient.Number(limit)));
        var data = await client.SendAsync(request, ct);
        MogplexClient.Field(data, SandboxListView.Names.Sandboxes);
        return new SandboxListView(data);
    }

    /// <summary>
    /// Stops a sandbox: <c>{sandbox, alreadyStopped}</c>, or null when the server has no such route
    /// (a 404 without the API envelope, as on the hosted service).
    /// </summary>
    public async Task<StoppedSandboxView?> StopAsync(string id, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.SandboxStop(MogplexClient.Id(id)));
        try
        {
            return new StoppedSandboxView(await client.SendAsync(request, ct));
        }
        catch (ApiException e) when (!e.IsEnvelope && e.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return null;
        }
    }
}
