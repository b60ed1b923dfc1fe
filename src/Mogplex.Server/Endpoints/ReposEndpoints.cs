using Mogplex.Contracts;
using Mogplex.Contracts.Repos;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary><c>/repos</c>: the repositories the operator linked for the caller.</summary>
public static class ReposEndpoints
{
    public static RouteGroupBuilder MapRepos(this RouteGroupBuilder api)
    {
        api.MapGet("/repos", ListAsync).Produces<ApiEnvelope<RepoList>>();
        return api;
    }

    private static async Task<IResult> ListAsync(HttpContext http, IMogplexStore store)
    {
        if (!QueryValues.TryLimit(http.Request, 100, 200, out var limit))
        {
            return ApiResults.BadRequest("Invalid limit");
        }

        var q = QueryValues.Get(http.Request, "q");
        if (q is { Length: > 200 })
        {
            return ApiResults.BadRequest("Invalid query");
        }

        var repos = await store.Repos.ListReposAsync(new RepoQuery(Caller.From(http).UserId, q, limit), http.RequestAborted);
        return ApiResults.Ok(new RepoList([.. repos.Select(ToContract)]));
    }

    public static Repo ToContract(RepoRecord r) => new(r.Id, r.FullName, r.InstallationId, r.DefaultBranch, r.RootDirectory);
}
