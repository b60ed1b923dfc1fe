using System.Net;
using System.Text.Json;
using Mogplex.Contracts;

namespace Mogplex.Client;

/// <summary><c>GET /sandboxes</c> and [beyond] <c>POST /sandboxes/{id}/stop</c>.</summary>
public sealed class SandboxesClient(MogplexClient client)
{
    /// <summary>The <c>sandboxes</c> array of the answer.</summary>
    public async Task<JsonElement> ListAsync(string? repoId, string? status, int? limit, CancellationToken ct)
    {
        using var request = client.NewRequest(
            HttpMethod.Get, ApiRoutes.Sandboxes, ("repo_id", repoId), ("status", status), ("limit", MogplexClient.Number(limit)));
        var data = await client.SendAsync(request, ct);
        return MogplexClient.Field(data, "sandboxes");
    }

    /// <summary>
    /// Stops a sandbox: <c>{sandbox, alreadyStopped}</c>, or null when the server has no such route
    /// (a 404 without the API envelope, as on the hosted service).
    /// </summary>
    public async Task<JsonElement?> StopAsync(string id, CancellationToken ct)
    {
        using var request = client.NewRequest(HttpMethod.Post, ApiRoutes.SandboxStop(MogplexClient.Id(id)));
        try
        {
            return await client.SendAsync(request, ct);
        }
        catch (ApiException e) when (!e.IsEnvelope && e.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return null;
        }
    }
}
