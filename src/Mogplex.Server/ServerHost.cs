using Microsoft.Extensions.Options;
using Mogplex.Contracts;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Endpoints;
using Mogplex.Server.Engine;
using Mogplex.Server.Engine.Delivery;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Isolation;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Events;
using Mogplex.Server.OpenApi;
using Mogplex.Server.Repos;
using Mogplex.Server.Runs;
using Mogplex.Server.Sandboxes;
using Mogplex.Storage;

namespace Mogplex.Server;

/// <summary>Builds the <c>mogplexd</c> web application: configuration, services, listeners, routes.</summary>
public static class ServerHost
{
    public const string ApiBase = Mogplex.Contracts.ApiRoutes.Base;

    /// <summary>Builds the app and migrates its store, so it takes no request before the schema is ready.</summary>
    public static async Task<WebApplication> BuildAsync(ServeSettings settings, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        DataDirectory.Prepare(settings.DataDir);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = settings.DataDir, Args = [] });

        builder.Configuration.Sources.Clear();
        builder.Configuration.AddMogplexdSources(settings.DataDir, settings.Overrides);

        ConfigureLogging(builder, settings);
        ConfigureKestrel(builder, settings);

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<ApiOptions>().BindConfiguration("Api").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration("RateLimits").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<RunsOptions>().BindConfiguration("Runs").ValidateDataAnnotations()
            .Validate(o => o.MaxDuration > TimeSpan.Zero, "Runs:MaxDuration must be positive").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SandboxOptions>, Engine.Network.AllowedHostsValidation>();
        builder.Services.AddOptions<SandboxOptions>().BindConfiguration("Sandbox").ValidateDataAnnotations()
            .Validate(o => o.IdleTimeout > TimeSpan.Zero, "Sandbox:IdleTimeout must be positive").ValidateOnStart();
        builder.Services.AddOptions<HarnessOptions>().BindConfiguration("Harnesses").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HarnessOptions>, HarnessOptionsValidator>();

        builder.Services.AddMogplexStorage(settings, builder.Configuration);
        builder.Services.AddSingleton(new EventSanitizer());
        builder.Services.AddSingleton<RunEvents>();
        builder.Services.AddSingleton<RepoMirrors>();
        builder.Services.AddSingleton<RunService>();
        builder.Services.AddSingleton<RunQueuePlaces>();
        builder.Services.AddSingleton<RunDetails>();
        builder.Services.AddSingleton<RequestRateLimiter>();
        builder.Services.AddSingleton<SandboxCheckouts>();
        builder.Services.AddSingleton<SandboxService>();
        builder.Services.AddSingleton<ApprovalService>();
        builder.Services.AddSingleton<RunInputService>();
        builder.Services.AddOptions<DeliveryOptions>().BindConfiguration("Delivery");
        builder.Services.AddSingleton<RunCancellations>();
        builder.Services.AddSingleton<IRunCancellationSignal>(sp => sp.GetRequiredService<RunCancellations>());
        builder.Services.AddSingleton<RunQueueSignal>();
        builder.Services.AddSingleton<SandboxUsers>();
        builder.Services.AddSingleton<RunLimits>();
        builder.Services.AddSingleton<ConfinedGit>();
        builder.Services.AddSingleton<IsolationResolver>();
        builder.Services.AddSingleton<IHarness, ExecHarness>();
        builder.Services.AddSingleton<IHarness, CodexHarness>();
        builder.Services.AddSingleton<IHarness, ClaudeCodeHarness>();
        builder.Services.AddSingleton<HarnessRegistry>();
        builder.Services.AddSingleton<IHarnessCatalog>(sp => sp.GetRequiredService<HarnessRegistry>());
        builder.Services.AddSingleton<WarmCheckoutPool>();
        builder.Services.AddSingleton<SandboxGit>();
        builder.Services.AddSingleton<SandboxPreparer>();
        builder.Services.AddSingleton<GitDelivery>();
        builder.Services.AddSingleton<RunDiffs>();
        builder.Services.AddSingleton<IRunDiffSource>(sp => sp.GetRequiredService<RunDiffs>());
        builder.Services.AddSingleton<RunDiffService>();
        builder.Services.AddSingleton<RunExecutor>();
        builder.Services.AddSingleton<RunWaitAnnouncer>();
        if (builder.Configuration.GetValue("Runs:Workers", true))
        {
            builder.Services.AddHostedService<RunWorkerService>();
        }

        builder.Services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer<OpenApiDocumentSetup>();
            o.AddOperationTransformer<OpenApiOperations>();
            o.AddSchemaTransformer<OpenApiSchemas>();
        });
        // The document describes numbers as numbers: the web defaults would also allow them as strings
        // (the server writes its answers with MogplexJsonContext; these options only shape the document).
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        await app.Services.GetRequiredService<IMogplexStore>().MigrateAsync(cancellationToken);
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseMiddleware<HeaderValuesMiddleware>();

        app.MapGet("/healthz", async (IMogplexStore store, IsolationResolver isolation, RunLimits limits, CancellationToken ct) =>
            await store.PingAsync(ct)
                ? ApiResults.Ok(new HealthStatus("ok", VersionInfo.Version)
                {
                    Sandbox = new SandboxHealth(isolation.Name, isolation.Network.ToString().ToLowerInvariant(), limits.ModeName, isolation.Warning ?? isolation.Refusal),
                })
                : ApiResults.Error(ErrorCodes.ServiceUnavailable, "The database is unavailable. Retry later."))
            .Doc("Health", "getHealth", "Is the server up, and what its sandbox can do", "No token needed. `sandbox` says which isolation, network and resource limits this server applies to runs.")
            .Produces<ApiEnvelope<HealthStatus>>()
            .Error(StatusCodes.Status503ServiceUnavailable, "The database is unavailable.");
        app.MapOpenApi(ApiBase + "/openapi.json");
        app.MapEventSchemas();

        var api = app.MapGroup(ApiBase).AddEndpointFilter<ApiAuthFilter>().WithMetadata(new RequiresTokenDoc());
        api.MapRepos();
        api.MapRuns();
        api.MapRunEvents();
        api.MapRunApprovals();
        api.MapRunInputs();
        api.MapSandboxes();
        app.MapFallback(ApiBase + "/{**rest}", () => ApiResults.NotFound("Route not found"));

        app.Lifetime.ApplicationStarted.Register(() => AfterStart(app, settings));
        return app;
    }

    /// <summary>Registers the storage provider picked by <c>Storage:Provider</c> (validated here: a bad value stops the start).</summary>
    public static IServiceCollection AddMogplexStorage(this IServiceCollection services, ServeSettings settings, IConfiguration configuration)
    {
        var storage = StorageSettings.From(configuration);
        services.AddSingleton(storage);
        services.AddSingleton(sp => storage.Open(settings.DataDir, sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, ServeSettings settings)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = false;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.SetMinimumLevel(settings.Dev ? LogLevel.Debug : LogLevel.Information);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, ServeSettings settings)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var api = context.Configuration.GetSection("Api").Get<ApiOptions>() ?? new ApiOptions();
            kestrel.Limits.MaxRequestBodySize = api.MaxBodyBytes;
            kestrel.AddServerHeader = false;

            // Header values reach HeaderValuesMiddleware (an envelope 400 with X-Request-Id) instead
            // of Kestrel's empty 400 for bytes that are not UTF-8 or a NUL.
            kestrel.RequestHeaderEncodingSelector = _ => HeaderValuesMiddleware.Encoding;
            if (settings.UnixSocket)
            {
                if (File.Exists(settings.SocketPath))
                {
                    File.Delete(settings.SocketPath);
                }

                kestrel.ListenUnixSocket(settings.SocketPath);
            }

            foreach (var url in settings.Listen)
            {
                var uri = ListenAddress.Parse(url, settings.AllowInsecureHttp);
                kestrel.Listen(uri.Address, uri.Port);
            }
        });
    }

    private static void AfterStart(WebApplication app, ServeSettings settings)
    {
        if (settings.UnixSocket && File.Exists(settings.SocketPath) && !OperatingSystem.IsWindows())
        {
            // The socket's permissions are its access control: owner only.
            File.SetUnixFileMode(settings.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("mogplexd");
        logger.LogInformation("mogplexd {Version} listening on {Addresses} (data {DataDir}, storage {Provider})",
            VersionInfo.Version, string.Join(", ", app.Urls), settings.DataDir, StorageSettings.Describe(app.Services.GetRequiredService<IMogplexStore>()));
    }
}
