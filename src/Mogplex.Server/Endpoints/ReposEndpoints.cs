using Mogplex.Contracts;
using Mogplex.Contracts.Repos;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.OpenApi;
using Mogplex.Storage;

namespace Mogplex.Server.Endpoints;

/// <summary><c>/repos</c>: the repositories the operator linked for the caller.</summary>
public static class ReposEndpoints
{
    public static RouteGroupBuilder MapRepos(this RouteGroupBuilder api)
    {
        api.MapGet("/repos", ListAsync)
            .Doc("Repos", "listRepos", "List the repositories linked for you", "Ordered by `full_name`. In mogplexd a repository is a git repository the operator linked (`mogplexd repo add`).")
            .Produces<ApiEnvelope<RepoList>>()
            .Query(new ApiQueryDoc("q", "Case-insensitive substring of `full_name`, taken literally (`%` and `_` are not wildcards); at most 200 characters.") { MaxLength = 200 })
            .Limit(100, 200)
            .Error(StatusCodes.Status400BadRequest, "`Invalid limit` (not an integer) or `Invalid query` (`q` over 200 characters).");
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
