using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Server;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>
/// A real mogplexd in this process: Kestrel on 127.0.0.1 (a real socket), a real SQLite file in a
/// temp data folder, and a controllable clock. Each test gets its own.
/// </summary>
public sealed class ServerFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
    private readonly List<HttpClient> _clients = [];

    private ServerFixture(Microsoft.AspNetCore.Builder.WebApplication app, string dataDir, FakeTimeProvider time, Uri baseAddress)
    {
        _app = app;
        DataDir = dataDir;
        Time = time;
        BaseAddress = baseAddress;
        Store = app.Services.GetRequiredService<IMogplexStore>();
    }

    public string DataDir { get; }

    public FakeTimeProvider Time { get; }

    public Uri BaseAddress { get; }

    public IMogplexStore Store { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ServerFixture> StartAsync(IDictionary<string, string?>? overrides = null, bool dev = true, Action<IServiceCollection>? services = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("mogplex-test-").FullName;
        var time = new FakeTimeProvider(Epoch);
        // API tests drive run states through the store themselves; engine tests turn the workers on.
        var config = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["Runs:Workers"] = "false" };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        var settings = new ServeSettings
        {
            DataDir = dataDir,
            Listen = ["http://127.0.0.1:0"],
            UnixSocket = false,
            Dev = dev,
            Overrides = config,
        };
        var app = await ServerHost.BuildAsync(settings, s =>
        {
            s.AddSingleton<TimeProvider>(time);
            services?.Invoke(s);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServerFixture(app, dataDir, time, new Uri(address));
    }

    /// <summary>A user (created when missing) and a fresh token for it.</summary>
    public async Task<string> CreateTokenAsync(string user = "admin", string scopes = "read,write", DateTimeOffset? expiresAt = null)
    {
        var owner = await Store.Users.EnsureUserAsync(user, Time.GetUtcNow(), Ct);
        var token = AccessTokens.Generate();
        await Store.Tokens.AddTokenAsync(
            new TokenRecord(Guid.NewGuid().ToString(), owner.Id, "test", AccessTokens.DisplayPrefix(token), Scopes.Parse(scopes)!, Time.GetUtcNow(), expiresAt, null, null),
            AccessTokens.Hash(token),
            Ct);
        return token;
    }

    /// <summary>The user id behind a user name.</summary>
    public async Task<string> UserIdAsync(string user = "admin") => (await Store.Users.EnsureUserAsync(user, Time.GetUtcNow(), Ct)).Id;

    /// <summary>Links a repo record directly (no git mirror: the API does not need one to accept runs).</summary>
    public async Task<string> CreateRepoAsync(string user = "admin", string fullName = "acme/api", string defaultBranch = "main", string rootDirectory = "")
    {
        var id = Guid.CreateVersion7().ToString();
        await Store.Repos.AddRepoAsync(
            new NewRepo(id, await UserIdAsync(user), fullName, defaultBranch, rootDirectory, "/srv/git/" + fullName + ".git", null, Time.GetUtcNow()), Ct);
        return id;
    }

    /// <summary>An HttpClient for the server, with the token as bearer when given.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        _clients.Add(client);
        return client;
    }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            c.Dispose();
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        (Store as IDisposable)?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
