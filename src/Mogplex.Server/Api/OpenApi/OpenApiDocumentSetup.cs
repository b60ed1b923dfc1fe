using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Mogplex.Server.Api.OpenApi;

/// <summary>The document's own parts: title, version, the server URL without a trailing slash, the bearer scheme, the tags.</summary>
public sealed class OpenApiDocumentSetup : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Mogplex v1 API (mogplexd)",
            Version = VersionInfo.Version,
            Description = """
                The Mogplex v1 REST API as `mogplexd` serves it: the hosted contract plus what `mogplexd` adds
                (marked [beyond] in descriptions, strictly additive). Every answer under `/api/v1/mogplex` is an
                envelope: `{"ok": true, "data": ...}` or `{"ok": false, "error": {"code", "message"}}`; clients match
                on `code`, people read `message`. Every answer carries `X-Request-Id`.

                Event payloads have a JSON Schema per event type: `/api/v1/mogplex/schemas/events/v1`.
                """,
        };

        // The server URL as the client reached it, without the trailing slash ASP.NET Core adds
        // (paths start with a slash: "http://host/" + "/api/..." would be a double slash).
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[OpenApiOperations.BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "mog_<32 base62>",
            Description = "A personal access token from `mogplexd token create` (scopes `read`, `write`). Each operation names the scope it needs; `write` does not imply `read`.",
        };

        if (document.Components.Schemas?.TryGetValue(AnyJson, out var any) == true && any is OpenApiSchema anySchema)
        {
            anySchema.Description = "Any JSON value (objects as the event type or tool produced them, sanitized).";
        }

        foreach (var schema in document.Components.Schemas?.Values.OfType<OpenApiSchema>() ?? [])
        {
            foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (property is not OpenApiSchema { OneOf: { Count: 2 } oneOf } || !oneOf.Any(IsNull))
                {
                    continue;
                }

                // A success envelope's payload is never null; "any JSON" already includes null (and
                // `oneOf [null, any]` would refuse a null: it matches both branches).
                var other = oneOf.First(s => !IsNull(s));
                if (name == "data" || other is OpenApiSchemaReference { Reference.Id: AnyJson })
                {
                    schema.Properties![name] = other;
                }
            }
        }

        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Repos", Description = "The git repositories the operator linked for you." },
            new() { Name = "Runs", Description = "Start, list, read and cancel agent runs." },
            new() { Name = "Events", Description = "A run's events: pages of JSON, or the live Server-Sent Events stream." },
            new() { Name = "Interactive", Description = "[beyond] Conversations, approvals and steering of interactive runs." },
            new() { Name = "Sandboxes", Description = "The per-run sandboxes." },
            new() { Name = "Schemas", Description = "[beyond] JSON Schemas of the event payloads." },
            new() { Name = "Health", Description = "Liveness and what the sandbox can do on this server." },
        };
        return Task.CompletedTask;
    }

    /// <summary>The component ASP.NET Core names after <see cref="System.Text.Json.JsonElement"/>: any JSON value.</summary>
    private const string AnyJson = "JsonElement";

    private static bool IsNull(IOpenApiSchema schema) => schema is OpenApiSchema { Type: JsonSchemaType.Null };
}
