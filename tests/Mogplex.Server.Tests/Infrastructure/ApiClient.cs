using System.Net;
using System.Text;
using System.Text.Json;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>Small helpers to call the API and read envelopes as raw JSON (what a client sees).</summary>
public static class ApiClient
{
    public const string Base = "/api/v1/mogplex";

    public sealed record Reply(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)
    {
        public JsonElement Data => Json.GetProperty("data");

        public string ErrorCode => Json.GetProperty("error").GetProperty("code").GetString()!;

        public string ErrorMessage => Json.GetProperty("error").GetProperty("message").GetString()!;

        public string? Header(string name) => Response.Headers.TryGetValues(name, out var v) ? v.First() :
            Response.Content.Headers.TryGetValues(name, out var c) ? c.First() : null;
    }

    public static async Task<Reply> SendAsync(HttpClient client, HttpMethod method, string path, string? body = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path.StartsWith('/') && !path.StartsWith(Base, StringComparison.Ordinal) && path != "/healthz" ? Base + path : path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }

        var response = await client.SendAsync(request, ServerFixture.Ct);
        var text = await response.Content.ReadAsStringAsync(ServerFixture.Ct);
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Reply(response.StatusCode, json, response);
    }

    public static Task<Reply> GetAsync(HttpClient client, string path) => SendAsync(client, HttpMethod.Get, path);

    public static Task<Reply> PostAsync(HttpClient client, string path, string? body = null, IDictionary<string, string>? headers = null) =>
        SendAsync(client, HttpMethod.Post, path, body, headers);

    /// <summary>POST /runs with an Idempotency-Key (a fresh one unless given).</summary>
    public static Task<Reply> StartRunAsync(HttpClient client, object body, string? key = null) =>
        SendAsync(client, HttpMethod.Post, "/runs", JsonSerializer.Serialize(body), new Dictionary<string, string> { ["Idempotency-Key"] = key ?? Guid.NewGuid().ToString() });
}
