using System.Net;
using System.Text;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>One expected request (method, path, exact query) and its answer; used a set number of times (default once).</summary>
public sealed class Stub(HttpMethod method, string path, string query)
{
    private Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>>? _respond;

    public HttpMethod Method { get; } = method;

    public string Path { get; } = path;

    public string Query { get; } = query;

    public int Expected { get; private set; } = 1;

    public int Used { get; internal set; }

    public Stub Times(int count)
    {
        Expected = count;
        return this;
    }

    public Stub Respond(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond)
    {
        _respond = respond;
        return this;
    }

    public Stub Respond(Func<HttpResponseMessage> respond) => Respond((_, _) => Task.FromResult(respond()));

    /// <summary><c>{"ok":true,"data":...}</c>.</summary>
    public Stub Ok(string dataJson, HttpStatusCode status = HttpStatusCode.OK) =>
        Json(status, $$"""{"ok":true,"data":{{dataJson}}}""");

    /// <summary><c>{"ok":false,"error":{"code","message"}}</c>, with <c>Retry-After</c> when given.</summary>
    public Stub Error(HttpStatusCode status, string code, string message, int? retryAfterSeconds = null) =>
        Respond(() =>
        {
            var response = JsonResponse(status, Api.Error(code, message));
            if (retryAfterSeconds is { } seconds)
            {
                response.Headers.TryAddWithoutValidation("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            return response;
        });

    public Stub Json(HttpStatusCode status, string json) => Respond(() => JsonResponse(status, json));

    public Stub Text(HttpStatusCode status, string mediaType, string body) =>
        Respond(() => new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) });

    /// <summary>A <c>text/event-stream</c> answer: the given frames, then the connection closes, drops or hangs.</summary>
    public Stub Sse(string frames, StreamEnding ending = StreamEnding.Close) => Sse(new ScriptedStream(frames, ending));

    /// <summary>A <c>text/event-stream</c> answer with this body (a hanging one the test pushes more frames into).</summary>
    public Stub Sse(ScriptedStream body) =>
        Respond((_, _) =>
        {
            var content = new StreamContent(body);
            content.Headers.ContentType = new("text/event-stream");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        });

    /// <summary>An answer whose body is <paramref name="body"/> (read as the CLI reads it), with a <c>Content-Length</c> when given.</summary>
    public Stub Body(HttpStatusCode status, string mediaType, Stream body, long? contentLength = null) =>
        Respond((_, _) =>
        {
            var content = new StreamContent(body);
            content.Headers.ContentType = new(mediaType);
            content.Headers.ContentLength = contentLength;
            return Task.FromResult(new HttpResponseMessage(status) { Content = content });
        });

    /// <summary>The transport fails (connection refused and the like).</summary>
    public Stub Unreachable() => Respond((_, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException("Connection refused")));

    internal bool Matches(RecordedRequest request, string apiRoot) =>
        Used < Expected
        && request.Method == Method
        && request.Uri.AbsolutePath == apiRoot + Path
        && request.Uri.Query.TrimStart('?') == Query;

    internal Task<HttpResponseMessage> AnswerAsync(RecordedRequest request, CancellationToken ct) =>
        _respond is null ? throw new InvalidOperationException($"stub {this} has no response") : _respond(request, ct);

    public override string ToString() => $"{Method} {Path}{(Query.Length > 0 ? "?" + Query : "")}";

    private static HttpResponseMessage JsonResponse(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}
