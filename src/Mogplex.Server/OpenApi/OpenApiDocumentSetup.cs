using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Mogplex.Server.OpenApi;

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

        NameTheEnums(document);
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

    /// <summary>
    /// Each closed set becomes one component (<c>RunStatus</c>, <c>RunEventType</c>, ...) and every
    /// non-null property marked by <see cref="OpenApiSchemas"/> refers to it: a generated client then
    /// has one type per set, not one per property. A nullable one stays inline (with its null):
    /// generators disagree on how to combine a reference with null.
    /// </summary>
    private static void NameTheEnums(OpenApiDocument document)
    {
        var schemas = document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, values) in OpenApiSchemas.Enums)
        {
            schemas[name] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = [.. values.Select(v => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(v))],
            };
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var schema in schemas.Values.OfType<OpenApiSchema>().ToList())
        {
            Rewrite(schema, document, used);
        }

        // Query parameters refer to them too (OpenApiOperations); a set nothing refers to (only
        // nullable properties use it) is left out rather than published unused.
        foreach (var parameter in document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []).SelectMany(o => o.Parameters ?? []))
        {
            if (parameter.Schema is OpenApiSchemaReference { Reference.Id: { } id })
            {
                used.Add(id);
            }
        }

        foreach (var name in OpenApiSchemas.Enums.Keys.Where(n => !used.Contains(n)))
        {
            schemas.Remove(name);
        }
    }

    private static IOpenApiSchema Rewrite(IOpenApiSchema schema, OpenApiDocument document, HashSet<string> used)
    {
        if (schema is not OpenApiSchema s)
        {
            return schema;
        }

        if (s.Extensions?.Remove(OpenApiSchemas.EnumMark, out var mark) == true && mark is JsonNodeExtension { Node: var node } && s.Type?.HasFlag(JsonSchemaType.Null) != true)
        {
            used.Add(node.GetValue<string>());
            return new OpenApiSchemaReference(node.GetValue<string>(), document) { Description = s.Description };
        }

        foreach (var key in s.Properties?.Keys.ToList() ?? [])
        {
            s.Properties![key] = Rewrite(s.Properties[key], document, used);
        }

        if (s.Items is not null)
        {
            s.Items = Rewrite(s.Items, document, used);
        }

        foreach (var list in new[] { s.OneOf, s.AnyOf, s.AllOf })
        {
            for (var i = 0; i < (list?.Count ?? 0); i++)
            {
                list![i] = Rewrite(list[i], document, used);
            }
        }

        return s;
    }

    /// <summary>The component ASP.NET Core names after <see cref="System.Text.Json.JsonElement"/>: any JSON value.</summary>
    private const string AnyJson = "JsonElement";

    private static bool IsNull(IOpenApiSchema schema) => schema is OpenApiSchema { Type: JsonSchemaType.Null };
}
