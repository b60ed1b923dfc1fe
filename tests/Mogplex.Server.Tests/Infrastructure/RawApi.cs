using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>
/// Requests exactly as a hostile client writes them: the path is sent verbatim (no dot-segment or
/// escape canonicalization by <see cref="Uri"/>), bodies are raw bytes, header values may be
/// non-ASCII (sent as UTF-8), and any answer is read as text, JSON or not.
/// </summary>
public static class RawApi
{
    private static readonly UriCreationOptions s_verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    public sealed record RawReply(HttpStatusCode Status, string Text, HttpResponseMessage Response)
    {
        public string? MediaType => Response.Content.Headers.ContentType?.MediaType;

        public string? Header(string name) => Response.Headers.TryGetValues(name, out var v) ? v.First() :
            Response.Content.Headers.TryGetValues(name, out var c) ? c.First() : null;

        public JsonElement Json() => JsonDocument.Parse(Text).RootElement.Clone();
    }

    /// <summary>
    /// A client for <paramref name="server"/> that sends header values as UTF-8 (the default refuses
    /// non-ASCII) and drops unfinished responses at once. The caller disposes it.
    /// </summary>
    public static HttpClient CreateClient(ServerFixture server, string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8,

            // Disposing an unfinished response closes its connection at once (by default the
            // handler drains it for up to 2 s to reuse it): a dropped stream really is dropped.
            MaxResponseDrainSize = 0,
            ResponseDrainTimeout = TimeSpan.Zero,
        };
        var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>The absolute URI of <paramref name="pathAndQuery"/> (relative to the API base unless it starts with it), kept verbatim.</summary>
    public static Uri Verbatim(HttpClient client, string pathAndQuery)
    {
        var path = pathAndQuery.StartsWith(ApiClient.Base, StringComparison.Ordinal) ? pathAndQuery : ApiClient.Base + pathAndQuery;
        return new Uri(client.BaseAddress!.GetLeftPart(UriPartial.Authority) + path, in s_verbatim);
    }

    /// <summary>Raw bytes labelled <c>application/json</c> (or another media type).</summary>
    public static ByteArrayContent Bytes(byte[] body, string? mediaType = "application/json")
    {
        var content = new ByteArrayContent(body);
        if (mediaType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        }

        return content;
    }

    /// <param name="expectContinue">
    /// Sends <c>Expect: 100-continue</c>, as a well-behaved client does with a large body: a server
    /// that refuses the body unread (413) answers before it is sent, instead of resetting the upload.
    /// </param>
    public static async Task<RawReply> SendAsync(
        HttpClient client,
        HttpMethod method,
        string pathAndQuery,
        HttpContent? content = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(method, Verbatim(client, pathAndQuery)) { Content = content };
        request.Headers.ExpectContinue = expectContinue ? true : null;
        foreach (var (name, value) in headers ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                throw new InvalidOperationException($"Header {name} could not be added.");
            }
        }

        var response = await client.SendAsync(request, ServerFixture.Ct);
        var text = await response.Content.ReadAsStringAsync(ServerFixture.Ct);
        return new RawReply(response.StatusCode, text, response);
    }

    /// <summary>
    /// Asserts the exact error envelope: <c>{"ok":false,"error":{"code","message"}}</c> and nothing
    /// else, as JSON, with the status the code maps to, and no stack trace in it.
    /// </summary>
    public static void AssertError(RawReply reply, HttpStatusCode status, string code, string? message)
    {
        Assert.True(reply.Status == status, $"expected {(int)status} {code}, got {(int)reply.Status}: {Shorten(reply.Text)}");
        Assert.Equal("application/json", reply.MediaType);
        var root = reply.Json();
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["ok", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.False, root.GetProperty("ok").ValueKind);
        var error = root.GetProperty("error");
        Assert.Equal(["code", "message"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(code, error.GetProperty("code").GetString());
        var actualMessage = error.GetProperty("message").GetString();
        if (message is not null)
        {
            Assert.Equal(message, actualMessage);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(actualMessage));
        }

        Assert.DoesNotContain(" at Mogplex.", reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", reply.Text, StringComparison.Ordinal);
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
