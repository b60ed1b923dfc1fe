using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Configuration;

/// <summary><c>MOGPLEX_URL</c>: the default, the plain-http rule (each leg), Unix sockets and path prefixes.</summary>
public sealed class ServerUrlTests : IDisposable
{
    private const string Refusal =
        "use https, or for a local development server use host localhost, 127.0.0.1 or [::1] with MOGPLEX_DEV=1 (never with NODE_ENV=production)";

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private async Task<CliResult> ListReposAsync()
    {
        _cli.Http.Get("/repos").Ok("""{"repos":[]}""");
        return await _cli.RunAsync("repos", "list");
    }

    [Fact]
    public async Task NoUrl_UsesTheHostedService()
    {
        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(new Uri("https://www.mogplex.com/api/v1/mogplex/repos"), _cli.SingleRequest.Uri);
    }

    [Theory]
    [InlineData("https://mogplex.example.org", "https://mogplex.example.org/api/v1/mogplex/repos")]
    [InlineData("https://mogplex.example.org/", "https://mogplex.example.org/api/v1/mogplex/repos")]
    [InlineData("https://mogplex.example.org:8443", "https://mogplex.example.org:8443/api/v1/mogplex/repos")]
    public async Task HttpsUrl_IsUsedAsTheBase(string url, string expected)
    {
        _cli.Env["MOGPLEX_URL"] = url;

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(new Uri(expected), _cli.SingleRequest.Uri);
    }

    [Theory]
    [InlineData("https://example.org/prefix")]
    [InlineData("https://example.org/prefix/")]
    public async Task UrlWithPathPrefix_KeepsThePrefix(string url)
    {
        _cli.Env["MOGPLEX_URL"] = url;
        _cli.Http.ApiRoot = "/prefix/api/v1/mogplex";
        _cli.Http.Get("/runs/run_1/events?limit=5").Ok(Api.EventsPage(Api.Run()));

        var result = await _cli.RunAsync("runs", "events", "run_1", "--limit", "5");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(new Uri("https://example.org/prefix/api/v1/mogplex/runs/run_1/events?limit=5"), _cli.SingleRequest.Uri);
    }

    [Theory]
    [InlineData("http://localhost:8080", "1", null)]
    [InlineData("http://127.0.0.1:8080", "1", null)]
    [InlineData("http://[::1]:8080", "1", null)]
    [InlineData("http://LOCALHOST:8080", "1", "development")]
    [InlineData("http://localhost", "1", "")]
    public async Task PlainHttp_LocalHostWithDevAndNotProduction_IsAllowed(string url, string? dev, string? nodeEnv)
    {
        _cli.Env["MOGPLEX_URL"] = url;
        _cli.Env["MOGPLEX_DEV"] = dev;
        _cli.Env["NODE_ENV"] = nodeEnv;

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal("http", _cli.SingleRequest.Uri.Scheme);
        Assert.Equal("/api/v1/mogplex/repos", _cli.SingleRequest.Uri.AbsolutePath);
    }

    [Theory]
    [InlineData("http://localhost:8080", null, null, "http://localhost:8080")]
    [InlineData("http://localhost:8080", "0", null, "http://localhost:8080")]
    [InlineData("http://localhost:8080", "true", null, "http://localhost:8080")]
    [InlineData("http://localhost:8080", "1", "production", "http://localhost:8080")]
    [InlineData("http://127.0.0.1:8080", "1", "production", "http://127.0.0.1:8080")]
    [InlineData("http://[::1]:8080", null, null, "http://[::1]:8080")]
    [InlineData("http://example.com", "1", null, "http://example.com")]
    [InlineData("http://10.0.0.5:8080", "1", null, "http://10.0.0.5:8080")]
    [InlineData("http://127.0.0.2", "1", null, "http://127.0.0.2")]
    [InlineData("http://localhost.evil.example", "1", null, "http://localhost.evil.example")]
    public async Task PlainHttp_AnyLegMissing_IsRefusedWithExit2(string url, string? dev, string? nodeEnv, string authority)
    {
        _cli.Env["MOGPLEX_URL"] = url;
        _cli.Env["MOGPLEX_DEV"] = dev;
        _cli.Env["NODE_ENV"] = nodeEnv;

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal([$"error: refusing plain http to {authority}: {Refusal}"], result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task RefusedUrl_IsUsageErrorEvenWithoutAToken()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        _cli.Env["MOGPLEX_URL"] = "http://example.com";

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("ftp://example.com", "error: MOGPLEX_URL is not an https:// URL or unix:/path: ftp://example.com")]
    [InlineData("www.mogplex.com", "error: MOGPLEX_URL is not an https:// URL or unix:/path: www.mogplex.com")]
    [InlineData("https://user:pass@example.com", "error: MOGPLEX_URL must be a base URL without credentials, query or fragment")]
    [InlineData("https://example.com/?x=1", "error: MOGPLEX_URL must be a base URL without credentials, query or fragment")]
    [InlineData("unix:", "error: MOGPLEX_URL=unix: needs a socket path, e.g. unix:/var/lib/mogplexd/mogplexd.sock")]
    public async Task MalformedUrl_IsUsageError(string url, string error)
    {
        _cli.Env["MOGPLEX_URL"] = url;

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Usage, result.Exit);
        Assert.Equal([error], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("unix:/run/mogplexd/mogplexd.sock")]
    [InlineData("unix:///run/mogplexd/mogplexd.sock")]
    public async Task UnixUrl_TalksHttpOverTheSocket(string url)
    {
        _cli.Env["MOGPLEX_URL"] = url;

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        var address = Assert.Single(_cli.Addresses);
        Assert.Equal("/run/mogplexd/mogplexd.sock", address.SocketPath);
        Assert.Equal("unix:/run/mogplexd/mogplexd.sock", address.Display);
        Assert.Equal(new Uri("http://localhost/api/v1/mogplex/repos"), _cli.SingleRequest.Uri);
    }

    [Fact]
    public async Task UnixUrl_IsAllowedWithoutDevMode()
    {
        _cli.Env["MOGPLEX_URL"] = "unix:/run/mogplexd/mogplexd.sock";
        _cli.Env["NODE_ENV"] = "production";

        Assert.Equal(ExitCodes.Success, (await ListReposAsync()).Exit);
    }

    [Fact]
    public async Task SandboxesStopPlaceholder_NamesTheConfiguredServer()
    {
        _cli.Env["MOGPLEX_URL"] = "https://example.org/prefix/";
        _cli.Http.ApiRoot = "/prefix/api/v1/mogplex";
        _cli.Http.Post("/sandboxes/sb_1/stop").Text(System.Net.HttpStatusCode.NotFound, "text/plain", "Not Found");

        var result = await _cli.RunAsync("sandboxes", "stop", "sb_1");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal(
            ["this server cannot stop sandboxes from the command line yet; stop sandbox sb_1 in the web UI at https://example.org/prefix"],
            result.StdoutLines);
    }
}
