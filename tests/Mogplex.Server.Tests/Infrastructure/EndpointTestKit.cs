using System.Net;
using System.Text.Json;
using Mogplex.Contracts.Runs;
using Mogplex.Server.Auth;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>Per-test time budgets (xUnit cancels <see cref="ServerFixture.Ct"/> when one runs out).</summary>
public static class TestTimeouts
{
    /// <summary>Milliseconds a single API test may take.</summary>
    public const int Api = 30_000;
}

/// <summary>Assertions on the v1 envelope.</summary>
public static class ApiAssert
{
    /// <summary>The error envelope, exactly: status, code, message and nothing else.</summary>
    public static void Error(ApiClient.Reply reply, HttpStatusCode status, string code, string message)
    {
        Assert.Equal(status, reply.Status);
        Assert.Equal(JsonValueKind.Object, reply.Json.ValueKind);
        Assert.False(reply.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(code, reply.ErrorCode);
        Assert.Equal(message, reply.ErrorMessage);
        Assert.Equal(["error", "ok"], Names(reply.Json));
        Assert.Equal(["code", "message"], Names(reply.Json.GetProperty("error")));
        Assert.StartsWith("application/json", reply.Response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    /// <summary>The one 401 answer for every bad token: exact body and <c>WWW-Authenticate: Bearer</c>.</summary>
    public static void Unauthorized(ApiClient.Reply reply)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.Equal("""{"ok":false,"error":{"code":"UNAUTHORIZED","message":"Unauthorized"}}""", reply.Json.GetRawText());
        Assert.Equal("Bearer", reply.Header("WWW-Authenticate"));
    }

    /// <summary>A success envelope with the given status; returns <c>data</c>.</summary>
    public static JsonElement Ok(ApiClient.Reply reply, HttpStatusCode status = HttpStatusCode.OK)
    {
        Assert.True(status == reply.Status, $"Expected {status}, got {reply.Status}: {(reply.Json.ValueKind == JsonValueKind.Undefined ? "<empty>" : reply.Json.GetRawText())}");
        Assert.True(reply.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(["data", "ok"], Names(reply.Json));
        return reply.Data;
    }

    /// <summary>The property names of an object, sorted ordinally.</summary>
    public static string[] Names(JsonElement element) =>
        [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    /// <summary>Asserts the object has exactly these properties (any order).</summary>
    public static void HasExactly(JsonElement element, params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal).ToArray(), Names(element));

    /// <summary>The ISO-8601 UTC millisecond shape of every timestamp on the wire.</summary>
    public static void IsTimestamp(JsonElement value) =>
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", value.GetString());
}

/// <summary>Helpers that reach past the API into the server (for setting up states the API cannot).</summary>
public static class ServerTestExtensions
{
    /// <summary>The stored token record behind a plaintext token.</summary>
    public static async Task<TokenRecord> TokenRecordAsync(this ServerFixture server, string token) =>
        await server.Store.Tokens.FindTokenByHashAsync(AccessTokens.Hash(token), ServerFixture.Ct)
        ?? throw new InvalidOperationException("Token not found.");

    /// <summary>Moves a pending run to streaming, as a worker would when it starts executing it.</summary>
    public static async Task<RunRecord> MakeStreamingAsync(this ServerFixture server, string runId, string? sandboxRecordId = null, string? sandboxId = null, string? runtimeRunId = null) =>
        await server.Store.Runs.TransitionAsync(
            new RunTransition
            {
                RunId = runId,
                From = [RunStatuses.Pending],
                To = RunStatuses.Streaming,
                At = server.Time.GetUtcNow(),
                SandboxRecordId = sandboxRecordId,
                SandboxId = sandboxId,
                RuntimeRunId = runtimeRunId,
                Events = [new NewRunEvent("status_changed", null, "Run is streaming", null)],
            },
            ServerFixture.Ct)
        ?? throw new InvalidOperationException("The run was not pending.");

    /// <summary>Starts a run through the API and returns its id (asserting 202).</summary>
    public static async Task<string> StartRunAsync(this ServerFixture server, HttpClient client, string repoId, string prompt = "Fix the build")
    {
        var reply = await ApiClient.StartRunAsync(client, new { repoId, prompt });
        return ApiAssert.Ok(reply, HttpStatusCode.Accepted).GetProperty("runId").GetString()!;
    }

    /// <summary>Creates a sandbox through the API and returns its record id (asserting 202).</summary>
    public static async Task<string> CreateSandboxAsync(this ServerFixture server, HttpClient client, string repoId, string? workingBranch = null)
    {
        var body = workingBranch is null
            ? JsonSerializer.Serialize(new { repoId })
            : JsonSerializer.Serialize(new { repoId, workingBranch });
        var reply = await ApiClient.PostAsync(client, "/sandboxes", body);
        return ApiAssert.Ok(reply, HttpStatusCode.Accepted).GetProperty("sandbox").GetProperty("id").GetString()!;
    }
}

/// <summary>
/// Runs many independent cases against one server (a server per case would dominate the suite's
/// time) and reports every failing case with its input, not just the first.
/// </summary>
public static class Cases
{
    public static async Task CheckAllAsync<T>(IEnumerable<T> cases, Func<T, Task> check)
    {
        var failures = new List<string>();
        var count = 0;
        foreach (var c in cases)
        {
            count++;
            try
            {
                await check(c);
            }
            catch (Exception ex) when (ex is Xunit.Sdk.IAssertionException)
            {
                failures.Add($"Case {Describe(c)}:{Environment.NewLine}{ex.Message}");
            }
        }

        Assert.True(count > 0, "No cases ran.");
        if (failures.Count > 0)
        {
            Assert.Fail($"{failures.Count} of {count} cases failed:{Environment.NewLine}{string.Join(Environment.NewLine + Environment.NewLine, failures)}");
        }
    }

    private static string Describe<T>(T value)
    {
        var text = value?.ToString() ?? "null";
        return text.Length > 200 ? text[..200] + $"... ({text.Length} chars)" : text;
    }
}
