using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mogplex.Testing.ModelStandIn;

/// <summary>
/// A local stand-in for the model APIs that the real agent CLIs call, on 127.0.0.1 with a free port:
/// <c>POST /v1/responses</c> (OpenAI Responses API, for Codex) and <c>POST /v1/messages</c>
/// (Anthropic Messages API, for Claude Code). Stateless: each reply is decided from the request body
/// by the <see cref="StandInScript"/> directives in the prompt.
/// </summary>
/// <remarks>
/// Codex: <c>-c model_providers.stub.base_url={BaseUrl}v1</c>. Claude Code: <c>ANTHROPIC_BASE_URL={BaseUrl}</c> (no <c>/v1</c>).
/// </remarks>
public sealed class ModelStandInServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<StandInRequest> _requests;

    private ModelStandInServer(WebApplication app, ConcurrentQueue<StandInRequest> requests, Uri baseUrl)
    {
        _app = app;
        _requests = requests;
        BaseUrl = baseUrl;
    }

    /// <summary>The root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The Codex provider base URL: <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public string OpenAiBaseUrl => BaseUrl.AbsoluteUri.TrimEnd('/') + "/v1";

    /// <summary>The value for <c>ANTHROPIC_BASE_URL</c>: <c>http://127.0.0.1:PORT</c> (no <c>/v1</c>).</summary>
    public string AnthropicBaseUrl => BaseUrl.AbsoluteUri.TrimEnd('/');

    /// <summary>Every request received so far, in order (for assertions only: replies never depend on it).</summary>
    public IReadOnlyList<StandInRequest> Requests => [.. _requests];

    public static async Task<ModelStandInServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        // No ConsoleLifetime: it would take over SIGINT/SIGTERM of the whole test process.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.AddServerHeader = false;
        });
        var app = builder.Build();
        var requests = new ConcurrentQueue<StandInRequest>();

        app.Run(async context =>
        {
            var request = context.Request;
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            requests.Enqueue(new StandInRequest(request.Method, request.Path + request.QueryString, body, DateTimeOffset.UtcNow));

            if (HttpMethods.IsPost(request.Method) && request.Path == "/v1/responses")
                await OpenAiResponses.HandleAsync(context, body);
            else if (HttpMethods.IsPost(request.Method) && request.Path == "/v1/messages")
                await AnthropicMessages.HandleAsync(context, body);
            else
                context.Response.StatusCode = StatusCodes.Status404NotFound;
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ModelStandInServer(app, requests, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary><c>[[hang]]</c>: what was written so far goes out, then nothing more until the client or the stand-in goes away.</summary>
    internal static async Task HangAsync(HttpResponse response, CancellationToken requestAborted)
    {
        var stopping = response.HttpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, stopping);
        try
        {
            await response.Body.FlushAsync(either.Token);
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
            // The client interrupted, or the stand-in stops.
        }
    }

    internal static JsonDocument? TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A stream still open after the grace period is aborted by the dispose below.
        }
        await _app.DisposeAsync();
    }
}

internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>One request as received.</summary>
public sealed record StandInRequest(string Method, string PathAndQuery, string Body, DateTimeOffset ReceivedAt);
