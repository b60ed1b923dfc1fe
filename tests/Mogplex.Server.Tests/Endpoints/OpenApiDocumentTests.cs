using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary>
/// Keeps the OpenAPI document honest: every route the server maps is described completely, every
/// described operation answers, with a status it documents and a body its schema accepts, and the
/// scope it names is the one the server checks.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string Base = "/api/v1/mogplex";

    /// <summary>The operationIds read like the CLI; a new route must be named here too.</summary>
    private static readonly string[] s_operationIds =
    [
        "getHealth", "listRepos", "startRun", "listRuns", "getRun", "cancelRun", "listRunEvents",
        "listRunApprovals", "decideRunApproval", "sendRunMessage", "interruptRun", "finishRun", "getRunDiff",
        "listSandboxes", "createSandbox", "getSandboxLogs", "stopSandbox", "listEventSchemas", "getEventSchema",
    ];

    private static readonly string[] s_tokenErrors = ["401", "403", "429", "500", "503"];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task EveryMappedRoute_IsDescribedCompletely_AndNothingElse()
    {
        await using var server = await ServerFixture.StartAsync();
        var document = await DocumentAsync(server);
        var paths = document.GetProperty("paths");

        var mapped = MappedRoutes(server);
        var documented = paths.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete").Select(m => (Method: m.Name.ToUpperInvariant(), Path: p.Name)))
            .ToHashSet();
        Assert.Equal(mapped.OrderBy(r => r.Path).ThenBy(r => r.Method), documented.OrderBy(r => r.Path).ThenBy(r => r.Method));

        var ids = new List<string>();
        foreach (var (method, path) in documented)
        {
            var operation = paths.GetProperty(path).GetProperty(method.ToLowerInvariant());
            var where = $"{method} {path}";
            ids.Add(operation.GetProperty("operationId").GetString()!);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), where);
            Assert.NotEmpty(operation.GetProperty("tags").EnumerateArray());

            // Every path parameter is declared and described.
            foreach (var name in PathParameters(path))
            {
                var parameter = Parameters(operation).SingleOrDefault(p => p.GetProperty("in").GetString() == "path" && p.GetProperty("name").GetString() == name);
                Assert.True(parameter.ValueKind == JsonValueKind.Object, $"{where}: path parameter {name} is not declared");
                Assert.True(parameter.GetProperty("required").GetBoolean(), where);
                Assert.False(string.IsNullOrWhiteSpace(parameter.GetProperty("description").GetString()), $"{where}: {name} has no description");
            }

            foreach (var parameter in Parameters(operation))
            {
                Assert.False(string.IsNullOrWhiteSpace(parameter.GetProperty("description").GetString()), $"{where}: {parameter}");
                Assert.True(parameter.TryGetProperty("schema", out _), $"{where}: {parameter}");
            }

            var responses = operation.GetProperty("responses");
            Assert.Contains(responses.EnumerateObject(), r => r.Name.StartsWith('2'));
            foreach (var response in responses.EnumerateObject())
            {
                Assert.True(response.Value.GetProperty("headers").TryGetProperty("X-Request-Id", out _), $"{where} {response.Name}: no X-Request-Id");
                if (response.Name[0] is '4' or '5')
                {
                    var schema = response.Value.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
                    Assert.True(schema is "#/components/schemas/ApiErrorEnvelope" or "#/components/schemas/ApprovalClosedEnvelope", $"{where} {response.Name}: {schema}");
                }
            }

            var token = operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0;
            Assert.Equal(path.StartsWith(Base + "/", StringComparison.Ordinal) && !path.StartsWith(Base + "/schemas/", StringComparison.Ordinal), token);
            if (token)
            {
                var scope = method == "GET" ? "read" : "write";
                Assert.Equal([scope], security[0].GetProperty("bearerAuth").EnumerateArray().Select(s => s.GetString()));
                foreach (var status in s_tokenErrors)
                {
                    Assert.True(responses.TryGetProperty(status, out _), $"{where} does not document {status}");
                }

                Assert.True(responses.GetProperty("401").GetProperty("headers").TryGetProperty("WWW-Authenticate", out _), where);
                Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _), where);
                Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("RateLimit-Remaining", out _), where);
            }

            if (method == "POST" && operation.TryGetProperty("requestBody", out var body))
            {
                Assert.StartsWith("#/components/schemas/", body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString(), StringComparison.Ordinal);
                Assert.True(responses.TryGetProperty("400", out _) && responses.TryGetProperty("413", out _), $"{where}: a body can be malformed or too large");
            }
        }

        Assert.Equal(s_operationIds.Order(), ids.Order());
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearerAuth").GetProperty("scheme").GetString());
        Assert.All(document.GetProperty("servers").EnumerateArray(), s => Assert.False(s.GetProperty("url").GetString()!.EndsWith('/'), s.ToString()));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task EveryDescribedOperation_Answers_WithADocumentedStatus_AndABodyItsSchemaAccepts()
    {
        await using var server = await ServerFixture.StartAsync();
        var document = await DocumentAsync(server);
        var client = server.Client(await server.CreateTokenAsync());
        var repoId = await server.CreateRepoAsync();
        var run = await ApiClient.StartRunAsync(client, new { repoId, prompt = "echo hi", harness = "exec" });
        Assert.Equal(HttpStatusCode.Accepted, run.Status);
        var sandbox = await ApiClient.PostAsync(client, "/sandboxes", JsonSerializer.Serialize(new { repoId }));
        Assert.Equal(HttpStatusCode.Accepted, sandbox.Status);
        var values = new Dictionary<string, string>
        {
            ["runId"] = run.Data.GetProperty("runId").GetString()!,
            ["approvalId"] = Guid.NewGuid().ToString(),
            ["id"] = sandbox.Data.GetProperty("sandbox").GetProperty("id").GetString()!,
            ["type"] = "tool_call",
        };
        var bodies = new Dictionary<string, string>
        {
            ["startRun"] = JsonSerializer.Serialize(new { repoId, prompt = "echo again", harness = "exec" }),
            ["createSandbox"] = JsonSerializer.Serialize(new { repoId }),
            ["decideRunApproval"] = """{"decision":"approve"}""",
            ["sendRunMessage"] = """{"text":"and now?"}""",
        };

        // Reads first, then what changes state (cancel and stop last), so most operations answer their success.
        var operations = Operations(document).OrderBy(o => o.OperationId is "cancelRun" or "stopSandbox").ThenBy(o => o.Method != "GET").ToList();
        var answered = new List<string>();
        foreach (var (method, path, operationId, operation) in operations)
        {
            var url = PathParameters(path).Aggregate(path, (u, name) => u.Replace("{" + name + "}", values[name], StringComparison.Ordinal));
            var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
            var reply = await ApiClient.SendAsync(client, new HttpMethod(method), url, bodies.GetValueOrDefault(operationId), headers);
            var status = ((int)reply.Status).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var where = $"{operationId} ({method} {url}) answered {status}";

            Assert.True(operation.GetProperty("responses").TryGetProperty(status, out var response), $"{where}, which it does not document: {reply.Json}");
            if (reply.Json.ValueKind != JsonValueKind.Undefined)
            {
                var mediaType = reply.Response.Content.Headers.ContentType?.MediaType ?? "(none)";
                Assert.True(response.GetProperty("content").TryGetProperty(mediaType, out var content), $"{where} as {mediaType}, which it does not document");
                var schema = content.GetProperty("schema");
                var result = Schema(document, schema).Evaluate(reply.Json, new EvaluationOptions { OutputFormat = OutputFormat.List });
                Assert.True(result.IsValid, $"{where}: the body does not match its schema: {Describe(result)}\n{reply.Json}");
            }

            answered.Add($"{operationId} {status}");
        }

        // The check can fail: a run detail is not an error envelope.
        var errorSchema = JsonDocument.Parse("""{"$ref":"#/components/schemas/ApiErrorEnvelope"}""").RootElement;
        Assert.False(Schema(document, errorSchema).Evaluate(run.Json).IsValid);

        // The ones a fresh, non-interactive run cannot succeed at answer their documented refusals.
        Assert.Equal(
            ["cancelRun 200", "createSandbox 202", "decideRunApproval 404", "finishRun 409", "getEventSchema 200", "getHealth 200", "getRun 200", "getRunDiff 200", "getSandboxLogs 200",
             "interruptRun 409", "listEventSchemas 200", "listRepos 200", "listRunApprovals 200", "listRunEvents 200", "listRuns 200", "listSandboxes 200", "sendRunMessage 409", "startRun 202", "stopSandbox 200"],
            answered.Order());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task TheScopeEachOperationNames_IsTheOneTheServerChecks()
    {
        await using var server = await ServerFixture.StartAsync();
        var document = await DocumentAsync(server);
        var readOnly = server.Client(await server.CreateTokenAsync(scopes: "read"));
        var writeOnly = server.Client(await server.CreateTokenAsync(scopes: "write"));
        var unknownId = Guid.NewGuid().ToString();

        await Cases.CheckAllAsync(Operations(document).Where(o => o.Operation.TryGetProperty("security", out var s) && s.GetArrayLength() > 0).ToList(), async o =>
        {
            var scope = o.Operation.GetProperty("security")[0].GetProperty("bearerAuth")[0].GetString();
            var url = PathParameters(o.Path).Aggregate(o.Path, (u, name) => u.Replace("{" + name + "}", unknownId, StringComparison.Ordinal));
            var lacking = scope == "read" ? writeOnly : readOnly;
            var having = scope == "read" ? readOnly : writeOnly;

            var refused = await ApiClient.SendAsync(lacking, new HttpMethod(o.Method), url, o.Method == "POST" ? "{}" : null);
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal($"Missing required scope: {scope}", refused.ErrorMessage);
            var allowed = await ApiClient.SendAsync(having, new HttpMethod(o.Method), url, o.Method == "POST" ? "{}" : null);
            Assert.NotEqual(HttpStatusCode.Forbidden, allowed.Status);
        });
    }

    private static async Task<JsonElement> DocumentAsync(ServerFixture server)
    {
        var reply = await ApiClient.GetAsync(server.Client(), Base + "/openapi.json");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return reply.Json;
    }

    /// <summary>(method, path) of every endpoint the server maps, but the document itself and the catch-all 404.</summary>
    private static HashSet<(string Method, string Path)> MappedRoutes(ServerFixture server) =>
        server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.EndsWith("/openapi.json", StringComparison.Ordinal) && !raw.Contains("{**", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["(any)"]).Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .ToHashSet();

    private static List<(string Method, string Path, string OperationId, JsonElement Operation)> Operations(JsonElement document) =>
        [.. document.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()
            .Where(m => m.Name is "get" or "post")
            .Select(m => (m.Name.ToUpperInvariant(), p.Name, m.Value.GetProperty("operationId").GetString()!, m.Value)))];

    private static IEnumerable<string> PathParameters(string path) =>
        path.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}'));

    private static List<JsonElement> Parameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var list) ? [.. list.EnumerateArray()] : [];

    /// <summary>
    /// The response schema as a JSON Schema 2020-12 document: OpenAPI 3.1 schemas are JSON Schema;
    /// the components go under <c>$defs</c> so that their references resolve.
    /// </summary>
    private static JsonSchema Schema(JsonElement document, JsonElement schema)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = JsonNode.Parse(document.GetProperty("components").GetProperty("schemas").GetRawText()),
            ["allOf"] = new JsonArray(JsonNode.Parse(schema.GetRawText())),
        };
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        return JsonSchema.FromText(text, baseUri: new Uri($"urn:mogplex:test:{Guid.NewGuid()}"));
    }

    private static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}"));
}
