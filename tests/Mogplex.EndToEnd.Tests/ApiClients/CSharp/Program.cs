// The README's flow through the C# client Kiota generated from the document a real mogplexd
// served (ApiClients/KiotaClientTests.cs): list the repos, start an exec run, follow its events
// page by page (`after`) to a terminal event, read the run. Prints one JSON line with what it
// saw; any failure is a message on stderr and exit code 1.
using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Mogplex.ApiClient;
using Mogplex.ApiClient.Models;

try
{
    var repoId = Setting("MOGPLEX_REPO_ID");
    var auth = new BaseBearerTokenAuthenticationProvider(new StaticToken(Setting("MOGPLEX_TOKEN")));
    using var adapter = new HttpClientRequestAdapter(auth) { BaseUrl = Setting("MOGPLEX_BASE_URL") };
    var api = new MogplexApiClient(adapter).Api.V1.Mogplex;

    var repos = await api.Repos.GetAsync();
    var repoList = Check("listRepos", repos?.Ok, repos?.Data).Repos ?? [];
    var repo = repoList.FirstOrDefault(r => r.Id == repoId);

    var startedEnvelope = await api.Runs.PostAsync(
        new StartRunRequest { RepoId = repoId, Prompt = Setting("MOGPLEX_PROMPT"), Harness = "exec" },
        c => c.Headers.Add("Idempotency-Key", Setting("MOGPLEX_IDEMPOTENCY_KEY")));
    var started = Check("startRun", startedEnvelope?.Ok, startedEnvelope?.Data);
    var runId = started.RunId ?? throw new InvalidOperationException("startRun: no runId");

    string[] terminal = ["finished", "failed", "cancelled"];
    var events = new List<RunEvent>();
    string? after = null;
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (!events.Any(e => terminal.Contains(Wire(e.Type))))
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new InvalidOperationException($"run {runId}: no terminal event within 60 s; seen: {string.Join(", ", events.Select(e => Wire(e.Type)))}");
        }

        var pageEnvelope = await api.Runs[runId].Events.GetAsync(c =>
        {
            c.QueryParameters.Limit = 100;
            c.QueryParameters.After = after;
        });
        var page = Check("listRunEvents", pageEnvelope?.Ok, pageEnvelope?.Data).Events ?? [];
        events.AddRange(page);
        after = page.Count > 0 ? page[^1].Id : after;
        if (page.Count == 0)
        {
            await Task.Delay(100);
        }
    }

    var runEnvelope = await api.Runs[runId].GetAsync();
    var run = Check("getRun", runEnvelope?.Ok, runEnvelope?.Data).Run ?? throw new InvalidOperationException("getRun: no run");
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["repoCount"] = repoList.Count,
        ["repoFullName"] = repo?.FullName,
        ["runId"] = runId,
        ["startedStatus"] = Wire(started.Status),
        ["eventTypes"] = events.Select(e => Wire(e.Type)).ToArray(),
        ["eventSeqs"] = events.Select(e => Convert.ToInt64(e.Seq, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        ["status"] = Wire(run.Status),
        ["harness"] = Wire(run.Harness),
        ["commit"] = run.Commit,
    }));
    return 0;
}
catch (ApiException e)
{
    // An error the document describes is a generated exception that is also a model: print its body.
    var body = e is IParsable parsable ? await KiotaJsonSerializer.SerializeAsStringAsync(parsable) : "";
    Console.Error.WriteLine($"HTTP {e.ResponseStatusCode}: {e.GetType().Name}: {e.Message} {body}");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine(e);
    return 1;
}

static string Setting(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

/// <summary>An envelope's data, or an error naming the call.</summary>
static T Check<T>(string what, bool? ok, T? data)
    where T : class =>
    ok == true && data is not null ? data : throw new InvalidOperationException($"{what}: not an ok envelope (ok {ok})");

/// <summary>A value as the wire spells it: a generated enum by its EnumMember name, else its text.</summary>
static string? Wire(object? value) => value switch
{
    null => null,
    Enum e => e.GetType().GetField(e.ToString())?.GetCustomAttribute<EnumMemberAttribute>()?.Value ?? e.ToString(),
    _ => value.ToString(),
};

/// <summary>The token the test minted, for every request (the server is on loopback, plain HTTP).</summary>
internal sealed class StaticToken(string token) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new();

    public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(token);
}
