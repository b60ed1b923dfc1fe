using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Mogplex.Contracts;
using Mogplex.Server.Auth;

namespace Mogplex.Server.OpenApi;

/// <summary>Marks the routes behind <see cref="ApiAuthFilter"/>: the bearer token, its scope, and the answers every such route can give.</summary>
public sealed record RequiresTokenDoc;

/// <summary>
/// Completes each operation from its <see cref="ApiDocs"/> metadata: parameters, headers, the
/// request body, every error answer with the envelope and its headers, the bearer scheme with the
/// scope the route needs (GET: <c>read</c>, anything else: <c>write</c>, as <see cref="Scopes"/> checks).
/// </summary>
public sealed class OpenApiOperations : IOpenApiOperationTransformer
{
    public const string BearerScheme = "bearerAuth";

    private static readonly Dictionary<string, string> s_pathParameters = new(StringComparer.Ordinal)
    {
        ["runId"] = "The run's id (a UUID). Anything else, or another user's run, is 404 `Run not found`.",
        ["approvalId"] = "The approval's id (a UUID) from `approval_requested` or the approvals list.",
        ["type"] = "An event type (`log`, `tool_call`, ...), optionally with `.json`.",
        ["id"] = "The sandbox record's id (`id` of a sandbox, a UUID). Anything else, or another user's sandbox, is 404 `Sandbox not found`.",
    };

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document ?? throw new InvalidOperationException("The operation transformer runs without its document.");
        var requiresToken = metadata.OfType<RequiresTokenDoc>().Any();
        // Registered once: every error answer refers to it.
        await SchemaRefAsync(typeof(ApiErrorEnvelope), context, document, cancellationToken);
        operation.Parameters ??= [];
        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Path))
        {
            parameter.Description ??= s_pathParameters.GetValueOrDefault(parameter.Name ?? "");
        }

        foreach (var query in metadata.OfType<ApiQueryDoc>())
        {
            operation.Parameters.Add(QueryParameter(query, document));
        }

        foreach (var header in metadata.OfType<ApiHeaderDoc>())
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Required = header.Required,
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = header.Required ? 1 : null, MaxLength = header.MaxLength },
            });
        }

        operation.Responses ??= [];
        if (metadata.OfType<ApiBodyDoc>().FirstOrDefault() is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = body.Required,
                Description = body.Description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await SchemaRefAsync(body.Type, context, document, cancellationToken) },
                },
            };
            AddError(operation, StatusCodes.Status400BadRequest, "The body is not a JSON object (`Invalid JSON body`), or a field is invalid (the message names it).", document);
            AddError(operation, StatusCodes.Status413PayloadTooLarge, "The body is larger than the server's limit (default 1 MiB); code `BAD_REQUEST`.", document);
        }

        foreach (var error in metadata.OfType<ApiErrorDoc>())
        {
            var schema = error.Schema is null ? null : await SchemaRefAsync(error.Schema, context, document, cancellationToken);
            AddError(operation, error.Status, error.Description, document, schema);
        }

        foreach (var empty in metadata.OfType<ApiEmptyResponseDoc>())
        {
            operation.Responses[empty.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = empty.Description,
                Headers = CommonHeaders(document, withRateLimit: requiresToken),
            };
        }

        if (metadata.OfType<EventStreamDoc>().Any() && operation.Responses.TryGetValue("200", out var ok) && ok.Content?.TryGetValue("text/event-stream", out var stream) == true)
        {
            stream.Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "Server-Sent Events: per event `id: <event id>`, `event: <type>`, `data: <the event as in the JSON page>`; "
                    + "at the end `event: end` with `data: {\"runId\": <id>, \"status\": <the run's final status>}`; `: keep-alive` comments in between.",
            };
            stream.Example = JsonValue.Create("id: 0192f5b2-...\nevent: log\ndata: {\"id\":\"0192f5b2-...\",\"type\":\"log\",...}\n\nevent: end\ndata: {\"runId\":\"...\",\"status\":\"success\"}\n\n");
        }

        // HeaderValuesMiddleware answers this on every route, before anything else reads the request.
        AddError(operation, StatusCodes.Status400BadRequest, "A header value has a control character or bytes that are not UTF-8: `Invalid header <name>: ...`.", document);
        foreach (var (status, response) in operation.Responses)
        {
            if (status.StartsWith('2') && response is OpenApiResponse success)
            {
                success.Headers ??= new Dictionary<string, IOpenApiHeader>();
                foreach (var (name, header) in CommonHeaders(document, requiresToken))
                {
                    success.Headers.TryAdd(name, header);
                }
            }
        }

        // ErrorHandlingMiddleware answers this on every route.
        AddError(operation, StatusCodes.Status500InternalServerError, "An unexpected failure; the message carries the request id to report (never a stack trace).", document);
        if (!requiresToken)
        {
            operation.Security = [];
            return;
        }

        var scope = Scopes.RequiredFor(context.Description.HttpMethod ?? "GET");
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [scope] }];
        operation.Description = (operation.Description is null ? "" : operation.Description + "\n\n") + $"Scope: `{scope}`.";
        AddError(operation, StatusCodes.Status401Unauthorized, "The token is missing, malformed, unknown, expired or revoked (one answer for all): `Unauthorized`.", document,
            extraHeaders: new() { ["WWW-Authenticate"] = Header("`Bearer`.") });
        AddError(operation, StatusCodes.Status403Forbidden, $"The token lacks the `{scope}` scope: `Missing required scope: {scope}`.", document);
        AddError(operation, StatusCodes.Status429TooManyRequests, "A limit was hit (the token's request window, or for `startRun` its run-start window: the message says which). `RateLimit-*` describe the limit that refused.", document,
            extraHeaders: new() { ["Retry-After"] = Header("Seconds until the request may succeed (at least 1).", JsonSchemaType.Integer) });
        AddError(operation, StatusCodes.Status503ServiceUnavailable, "A dependency (the database, the limiter) is down; retry later.", document,
            extraHeaders: new() { ["Retry-After"] = Header("Seconds to wait, when known.", JsonSchemaType.Integer) });
    }

    private static OpenApiParameter QueryParameter(ApiQueryDoc query, OpenApiDocument document)
    {
        if (query.Enum is { } named && OpenApiSchemas.Enums.FirstOrDefault(e => e.Value.SequenceEqual(named)).Key is { } name)
        {
            return new OpenApiParameter { Name = query.Name, In = ParameterLocation.Query, Required = false, Description = query.Description, Schema = new OpenApiSchemaReference(name, document) };
        }

        var schema = new OpenApiSchema { Type = query.Type, MaxLength = query.MaxLength, Format = query.Format };
        if (query.Enum is { } values)
        {
            schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))];
        }

        if (query.Default is { } value)
        {
            schema.Default = JsonValue.Create(value);
        }

        return new OpenApiParameter { Name = query.Name, In = ParameterLocation.Query, Required = false, Description = query.Description, Schema = schema };
    }

    /// <summary>A component schema for <paramref name="type"/> (registered once under its type name) and a reference to it.</summary>
    private static async Task<IOpenApiSchema> SchemaRefAsync(Type type, OpenApiOperationTransformerContext context, OpenApiDocument document, CancellationToken ct)
    {
        var name = type.Name;
        if (document.Components?.Schemas?.ContainsKey(name) != true)
        {
            document.AddComponent(name, await context.GetOrCreateSchemaAsync(type, null, ct));
        }

        return new OpenApiSchemaReference(name, document);
    }

    private static void AddError(OpenApiOperation operation, int status, string description, OpenApiDocument document, IOpenApiSchema? schema = null, Dictionary<string, IOpenApiHeader>? extraHeaders = null)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var headers = CommonHeaders(document, withRateLimit: status != StatusCodes.Status401Unauthorized);
        foreach (var (name, header) in extraHeaders ?? [])
        {
            headers[name] = header;
        }

        if (operation.Responses!.TryGetValue(key, out var existing) && existing is OpenApiResponse known)
        {
            // Two causes of one status (400 of the body and of a query value): one response, both causes.
            known.Description = known.Description is { Length: > 0 } d && !d.Contains(description, StringComparison.Ordinal) && d != ReasonPhrase(status) ? d + " Or: " + description : description;
            known.Headers ??= new Dictionary<string, IOpenApiHeader>();
            foreach (var (name, header) in headers)
            {
                known.Headers.TryAdd(name, header);
            }

            if (schema is not null || known.Content is null || known.Content.Count == 0)
            {
                known.Content = ErrorContent(schema ?? new OpenApiSchemaReference(nameof(ApiErrorEnvelope), document));
            }

            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Headers = headers,
            Content = ErrorContent(schema ?? new OpenApiSchemaReference(nameof(ApiErrorEnvelope), document)),
        };
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    private static Dictionary<string, OpenApiMediaType> ErrorContent(IOpenApiSchema schema) =>
        new() { ["application/json"] = new OpenApiMediaType { Schema = schema } };

    /// <summary><c>X-Request-Id</c> on every answer; the token's request-window headers once the token was proven valid (components, referred to).</summary>
    private static Dictionary<string, IOpenApiHeader> CommonHeaders(OpenApiDocument document, bool withRateLimit)
    {
        var names = withRateLimit ? s_commonHeaders.Keys : s_commonHeaders.Keys.Take(1);
        var headers = new Dictionary<string, IOpenApiHeader>();
        foreach (var name in names)
        {
            if (document.Components?.Headers?.ContainsKey(name) != true)
            {
                document.AddComponent<IOpenApiHeader>(name, s_commonHeaders[name]);
            }

            headers[name] = new OpenApiHeaderReference(name, document);
        }

        return headers;
    }

    private static readonly Dictionary<string, OpenApiHeader> s_commonHeaders = new()
    {
        ["X-Request-Id"] = Header("The request's id: the client's `X-Request-Id` echoed when sane (1–128 of `[A-Za-z0-9._:-]`), else a new one."),
        ["RateLimit-Limit"] = Header("Requests allowed in the window that applies (the token's request window; on a run-start 429, the run-start window that refused).", JsonSchemaType.Integer),
        ["RateLimit-Remaining"] = Header("Requests left in that window.", JsonSchemaType.Integer),
        ["RateLimit-Reset"] = Header("Seconds until that window has room again.", JsonSchemaType.Integer),
    };

    private static OpenApiHeader Header(string description, JsonSchemaType type = JsonSchemaType.String) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = type } };
}
