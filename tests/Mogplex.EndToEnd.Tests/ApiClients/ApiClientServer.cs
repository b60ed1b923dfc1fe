using System.Text.Json.Nodes;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.ApiClients;

/// <summary>
/// A published <c>mogplexd</c> for a third-party client: fresh data folder, a read/write token, a
/// linked git repository (<c>acme/api</c>), served on 127.0.0.1 with <c>--dev</c> (exec runs), and
/// the OpenAPI document it serves saved as <see cref="DocumentPath"/> in a work folder of its own
/// (deleted on dispose), where the test generates and builds its client.
/// </summary>
public sealed class ApiClientServer : IAsyncDisposable
{
    private ApiClientServer(MogplexdProcess mogplexd, ServerProcess server, string token, string repoId, GitSource source, string workDir, JsonNode document)
    {
        Mogplexd = mogplexd;
        Server = server;
        Token = token;
        RepoId = repoId;
        Source = source;
        WorkDir = workDir;
        Document = document;
    }

    public MogplexdProcess Mogplexd { get; }

    public ServerProcess Server { get; }

    public string Token { get; }

    public string RepoId { get; }

    public GitSource Source { get; }

    /// <summary>The test's folder for the document, generated code and builds.</summary>
    public string WorkDir { get; }

    public string DocumentPath => Path.Combine(WorkDir, "openapi.json");

    /// <summary>The served document, parsed.</summary>
    public JsonNode Document { get; }

    /// <summary>The server's base address without a trailing slash (what a client is configured with).</summary>
    public string BaseUrl => Server.BaseAddress.ToString().TrimEnd('/');

    public static async Task<ApiClientServer> StartAsync()
    {
        var mogplexd = new MogplexdProcess();
        try
        {
            var token = await mogplexd.CreateTokenAsync("api-client");
            var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "api");
            var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path, "--name", "acme/api")).Trim();
            var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
            var workDir = Path.Combine(mogplexd.RootDir, "client");
            Directory.CreateDirectory(workDir);

            // The document as the server serves it, anonymously, as a generator would fetch it.
            using var http = server.CreateClient();
            using var response = await http.GetAsync(new Uri(Curl.ApiBase + "/openapi.json", UriKind.Relative), TestContext.Current.CancellationToken);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"GET {Curl.ApiBase}/openapi.json: {(int)response.StatusCode}\n{text}");
            await File.WriteAllTextAsync(Path.Combine(workDir, "openapi.json"), text, TestContext.Current.CancellationToken);
            var document = JsonNode.Parse(text) ?? throw new InvalidOperationException("the served document is JSON null");
            return new ApiClientServer(mogplexd, server, token, repoId, source, workDir, document);
        }
        catch
        {
            await mogplexd.DisposeAsync();
            throw;
        }
    }

    /// <summary>The path template (e.g. <c>/api/v1/mogplex/runs/{runId}/events</c>) and method of an operationId in the document.</summary>
    public (string Path, string Method)? FindOperation(string operationId)
    {
        foreach (var (path, item) in Document["paths"]?.AsObject() ?? [])
        {
            foreach (var (method, operation) in item?.AsObject() ?? [])
            {
                if (operation is JsonObject o && o["operationId"]?.GetValue<string>() == operationId)
                {
                    return (path, method);
                }
            }
        }

        return null;
    }

    /// <summary>Copies the checked-in files of <c>ApiClients/&lt;folder&gt;</c> (from the test's output) into the work folder.</summary>
    public void CopyTemplate(string folder, params string[] files)
    {
        var from = Path.Combine(AppContext.BaseDirectory, "ApiClients", folder);
        foreach (var file in files)
        {
            File.Copy(Path.Combine(from, file), Path.Combine(WorkDir, file), overwrite: true);
        }
    }

    public ValueTask DisposeAsync() => Mogplexd.DisposeAsync();
}
