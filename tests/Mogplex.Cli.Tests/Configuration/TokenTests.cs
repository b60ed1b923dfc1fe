using System.Net;
using Mogplex.Cli.Configuration;
using Mogplex.Cli.Tests.Infrastructure;

namespace Mogplex.Cli.Tests.Configuration;

/// <summary>Where the token comes from (cli.md § Configuration), and that it is never printed.</summary>
public sealed class TokenTests : IDisposable
{
    private const string FileToken = "mog_FileTokenZyxwvutsrqponm9876543210";
    private const string NotAuthenticated = "error: not authenticated: set MOGPLEX_API_KEY or sign in with `mogplex`";

    private readonly CliHarness _cli = new();

    public TokenTests() => _cli.Secrets.Add(FileToken);

    public void Dispose() => _cli.Dispose();

    private static string AuthJson(string token) =>
        $$$"""{"mogplex":{"token":"{{{token}}}","url":"https://www.mogplex.com","createdAt":"2025-01-01T00:00:00.000Z","extra":[1,2]},"other":{"keep":true}}""";

    private async Task<CliResult> ListReposAsync()
    {
        _cli.Http.Get("/repos").Ok("""{"repos":[]}""");
        return await _cli.RunAsync("repos", "list", "--json");
    }

    [Fact]
    public async Task EnvToken_WinsOverAuthFile()
    {
        var home = Path.Combine(_cli.Home, "mh");
        CliHarness.WriteAuthFile(home, AuthJson(FileToken));
        _cli.Env["MOGPLEX_HOME"] = home;

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {CliHarness.Token}", _cli.SingleRequest.Header("Authorization"));
    }

    [Fact]
    public async Task AuthFile_IssuedForAnotherServer_WarnsOnceAndStillSendsIt()
    {
        var home = Path.Combine(_cli.Home, "mh");
        CliHarness.WriteAuthFile(home, AuthJson(FileToken).Replace("https://www.mogplex.com", "https://mogplex.other.example", StringComparison.Ordinal));
        _cli.Env["MOGPLEX_HOME"] = home;
        _cli.Env.Remove("MOGPLEX_API_KEY");

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {FileToken}", _cli.SingleRequest.Header("Authorization"));
        var warning = Assert.Single(result.StderrLines);
        Assert.StartsWith("warning: the token in auth.json was issued for https://mogplex.other.example; sending it to ", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyEnvToken_FallsBackToAuthFile()
    {
        var home = Path.Combine(_cli.Home, "mh");
        CliHarness.WriteAuthFile(home, AuthJson(FileToken));
        _cli.Env["MOGPLEX_HOME"] = home;
        _cli.Env["MOGPLEX_API_KEY"] = "";

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {FileToken}", _cli.SingleRequest.Header("Authorization"));
    }

    [Fact]
    public async Task AuthFile_FromMogplexHome_WinsOverCodexHomeWithoutWarning()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        var home = Path.Combine(_cli.Home, "mh");
        CliHarness.WriteAuthFile(home, AuthJson(FileToken));
        CliHarness.WriteAuthFile(Path.Combine(_cli.Home, "codex"), AuthJson("mog_CodexTokenShouldNotBeUsed000000000"));
        _cli.Env["MOGPLEX_HOME"] = home;
        _cli.Env["CODEX_HOME"] = Path.Combine(_cli.Home, "codex");

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {FileToken}", _cli.SingleRequest.Header("Authorization"));
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task AuthFile_FromCodexHome_WarnsOnceOnStderr_StdoutStaysJson()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        var codex = Path.Combine(_cli.Home, "codex");
        CliHarness.WriteAuthFile(codex, AuthJson(FileToken));
        _cli.Env["CODEX_HOME"] = codex;
        _cli.Http.Get("/repos").Ok("""{"repos":[{"id":"repo_1","full_name":"acme/api","installation_id":1,"default_branch":"main","root_directory":null}]}""");

        var result = await _cli.RunAsync("repos", "list", "--json");

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {FileToken}", _cli.SingleRequest.Header("Authorization"));
        Assert.Equal(["warning: CODEX_HOME is deprecated for mogplex; set MOGPLEX_HOME instead"], result.StderrLines);
        Assert.Equal("repo_1", Api.Parse(Assert.Single(result.StdoutLines)).GetProperty("id").GetString());
    }

    [Fact]
    public void CodexHome_AskedTwice_WarnsOnce()
    {
        using var warnings = new StringWriter { NewLine = "\n" };
        var settings = new CliSettings(name => name == "CODEX_HOME" ? "/tmp/codex-home" : null, warnings);

        Assert.Equal("/tmp/codex-home", settings.Home());
        Assert.Equal("/tmp/codex-home", settings.Home());

        Assert.Equal("warning: CODEX_HOME is deprecated for mogplex; set MOGPLEX_HOME instead\n", warnings.ToString());
    }

    [Fact]
    public async Task AuthFile_FromHomeDotMogplex_WhenNoHomeVariable()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        CliHarness.WriteAuthFile(Path.Combine(_cli.Home, ".mogplex"), AuthJson(FileToken));

        var result = await ListReposAsync();

        Assert.Equal(ExitCodes.Success, result.Exit);
        Assert.Equal($"Bearer {FileToken}", _cli.SingleRequest.Header("Authorization"));
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task NoTokenAnywhere_Exits64WithTheDocumentedMessage()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");

        var result = await _cli.RunAsync("repos", "list");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.Equal([NotAuthenticated], result.StderrLines);
        Assert.Empty(result.Stdout);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("""{"other":{"token":"mog_x"}}""")]
    [InlineData("""{"mogplex":{"token":""}}""")]
    [InlineData("""{"mogplex":{"token":42}}""")]
    [InlineData("""{"mogplex":"mog_x"}""")]
    [InlineData("""[]""")]
    public async Task AuthFileWithoutAToken_Exits64NotAuthenticated(string content)
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        CliHarness.WriteAuthFile(Path.Combine(_cli.Home, ".mogplex"), content);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.Equal([NotAuthenticated], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("""{"mogplex":{"token":"mog_FileTokenZyxwvutsrqponm9876543210""")]
    [InlineData("""{"mogplex":{"token":"mog_FileTokenZyxwvutsrqponm9876543210",}}""")]
    [InlineData("mog_FileTokenZyxwvutsrqponm9876543210")]
    public async Task MalformedAuthFile_Exits64NamingTheFile_NeverTheToken(string content)
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        var path = CliHarness.WriteAuthFile(Path.Combine(_cli.Home, ".mogplex"), content);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.Equal([$"error: {path} is not valid JSON; sign in again with `mogplex` or set MOGPLEX_API_KEY"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task UnreadableAuthFile_Exits64NamingTheFile()
    {
        _cli.Env.Remove("MOGPLEX_API_KEY");
        var path = Path.Combine(_cli.Home, ".mogplex", "auth.json");
        Directory.CreateDirectory(path);

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.StartsWith($"error: cannot read {path}: ", Assert.Single(result.StderrLines));
        Assert.Empty(_cli.Http.Requests);
    }

    [Theory]
    [InlineData("mog_Has Space0123456789abcdefghijklm")]
    [InlineData("mog_NewLine0123456789abcdefghijklm\n")]
    [InlineData("mog_Accent\u00e90123456789abcdefghijklm")]
    public async Task EnvTokenWithCharactersAHeaderCannotCarry_Exits64WithoutEchoingIt(string token)
    {
        _cli.Env["MOGPLEX_API_KEY"] = token;
        _cli.Secrets.Add(token.Trim());

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.Equal(["error: the token from MOGPLEX_API_KEY contains characters a token cannot have"], result.StderrLines);
        Assert.Empty(_cli.Http.Requests);
    }

    [Fact]
    public async Task ServerRejectsTheToken_Exits64WithoutPrintingIt()
    {
        _cli.Http.Get("/runs/run_1").Error(HttpStatusCode.Unauthorized, "UNAUTHORIZED", "Unauthorized");

        var result = await _cli.RunAsync("runs", "get", "run_1");

        Assert.Equal(ExitCodes.Unauthorized, result.Exit);
        Assert.Equal(["error: Unauthorized (UNAUTHORIZED)"], result.StderrLines);
    }
}
