using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mogplex.Client;

/// <summary>
/// The typed v1 client, grouped by resource (<c>client.Runs.GetAsync</c>). It unwraps the
/// <c>{ok,data}</c> envelope and returns <c>data</c> as JSON exactly as the server sent it, so
/// callers can print it unchanged (<c>--json</c>) and read the fields they need; an
/// <c>{ok:false}</c> answer becomes an <see cref="ApiException"/>, a transport failure a
/// <see cref="ServerUnreachableException"/>. Nothing is retried here: a 429 is the caller's to
/// retry (exit 75), and only the event follower reconnects. An answer is read only up to
/// <see cref="MaxAnswerBytes"/>: a server that sends more is broken or hostile, and the client stops
/// reading and says so instead of holding whatever it sends in memory.
/// </summary>
public sealed class MogplexClient : IDisposable
{
    /// <summary>
    /// The largest answer body read (32 MiB). The largest answer a Mogplex server sends is an events
    /// page of 200 events at the sanitizer's limits (2,000-character messages, 20,000-character
    /// payloads), about 27 MB even with every character escaped as <c>\uXXXX</c>.
    /// </summary>
    public const int MaxAnswerBytes = 32 * 1024 * 1024;

    private const int FirstReadBuffer = 64 * 1024;

    private readonly HttpClient _http;
    private string _token;

    public MogplexClient(HttpClient http, ServerAddress address, string token, TimeSpan? requestTimeout = null)
    {
        _http = http;
        _token = token;
        Address = address;
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(60);
        Runs = new RunsClient(this);
        Repos = new ReposClient(this);
        Sandboxes = new SandboxesClient(this);
    }

    public ServerAddress Address { get; }

    /// <summary>Whether requests carry a token (a signed-out cockpit's client has none until <see cref="UseToken"/>).</summary>
    public bool HasToken => Volatile.Read(ref _token).Length > 0;

    /// <summary>Sends <paramref name="token"/> from the next request on (<c>/login</c>, <c>/logout</c> in the cockpit; empty: none); returns the one it replaces.</summary>
    public string UseToken(string token) => Interlocked.Exchange(ref _token, token);

    /// <summary>How long a plain request may take, headers and body.</summary>
    public TimeSpan RequestTimeout { get; }

    public RunsClient Runs { get; }

    public ReposClient Repos { get; }

    public SandboxesClient Sandboxes { get; }

    internal HttpRequestMessage NewRequest(HttpMethod method, string relative, params (string Name, string? Value)[] query)
    {
        var path = relative + QueryString(query);
        var request = new HttpRequestMessage(method, Address.ApiUri(path));
        if (Volatile.Read(ref _token) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    /// <summary>Sends a request and returns the envelope's <c>data</c>.</summary>
    internal async Task<JsonElement> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token, ct);
        return await ReadDataAsync(response, timeout.Token, ct);
    }

    /// <summary>Sends and returns the response with its headers read (the caller owns it).</summary>
    internal async Task<HttpResponseMessage> SendRawAsync(
        HttpRequestMessage request, HttpCompletionOption completion, CancellationToken attempt, CancellationToken caller)
    {
        try
        {
            return await _http.SendAsync(request, completion, attempt);
        }
        catch (HttpRequestException e)
        {
            throw new ServerUnreachableException(Address.Display, Reason(e), e);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new ServerUnreachableException(Address.Display, $"no answer within {RequestTimeout.TotalSeconds:0}s", e);
        }
    }

    internal async Task<JsonElement> ReadDataAsync(HttpResponseMessage response, CancellationToken attempt, CancellationToken caller)
    {
        ReadOnlyMemory<byte>? body;
        try
        {
            body = await ReadBoundedAsync(response.Content, MaxAnswerBytes, attempt);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new ServerUnreachableException(Address.Display, Reason(e), e);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new ServerUnreachableException(Address.Display, $"no answer within {RequestTimeout.TotalSeconds:0}s", e);
        }

        if (body is null)
        {
            // Too large to be an answer of this API; an error status still says what went wrong.
            throw Unexpected(response, response.IsSuccessStatusCode ? $"an answer larger than {MaxAnswerBytes / (1024 * 1024)} MiB" : null);
        }

        return ParseEnvelope(response, body.Value);
    }

    /// <summary>
    /// The whole body, or null as soon as it proves longer than <paramref name="limit"/> bytes (by
    /// its <c>Content-Length</c>, or once <paramref name="limit"/> + 1 bytes have arrived); nothing
    /// past that is read.
    /// </summary>
    internal static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpContent content, int limit, CancellationToken ct)
    {
        var declared = content.Headers.ContentLength;
        if (declared > limit)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new byte[(int)Math.Min(declared + 1 ?? FirstReadBuffer, limit + 1L)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    return null;
                }

                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, limit + 1L));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
            {
                return buffer.AsMemory(0, length);
            }

            length += read;
        }
    }

    internal static JsonElement ParseEnvelope(HttpResponseMessage response, ReadOnlyMemory<byte> body)
    {
        var status = response.StatusCode;
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
        }

        using (document)
        {
            var root = document?.RootElement;
            if (root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty("ok", out var ok) && ok.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                if (ok.ValueKind == JsonValueKind.True && response.IsSuccessStatusCode && r.TryGetProperty("data", out var data))
                {
                    return data.Clone();
                }

                if (r.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : $"HTTP_{(int)status}";
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : $"HTTP {(int)status}";
                    throw new ApiException(status, code, message, isEnvelope: true, RetryAfter(response));
                }
            }
        }

        throw Unexpected(response, response.IsSuccessStatusCode ? "an answer that is not a Mogplex API envelope" : null);
    }

    /// <summary>An answer that is not this API's: <c>unexpected answer from the server: &lt;what&gt;</c> (default: its status line).</summary>
    internal static ApiException Unexpected(HttpResponseMessage response, string? what)
    {
        var status = response.StatusCode;
        what ??= $"HTTP {(int)status} {response.ReasonPhrase}".TrimEnd();
        return new ApiException(status, $"HTTP_{(int)status}", $"unexpected answer from the server: {what}", isEnvelope: false, RetryAfter(response));
    }

    /// <summary>A field the route always puts in <c>data</c>; without it the answer is not this API's.</summary>
    internal static JsonElement Field(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value)
            ? value
            : throw new ApiException(HttpStatusCode.OK, "HTTP_200", $"unexpected answer from the server: no \"{name}\" in its data", isEnvelope: false, null);

    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static string Reason(Exception e)
    {
        // The innermost socket error says what happened ("Connection refused", "No such file or directory").
        Exception inner = e;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return inner.Message.TrimEnd('.');
    }

    private static string QueryString((string Name, string? Value)[] query)
    {
        var parts = query.Where(q => q.Value is not null).Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    internal static string Id(string id) => Uri.EscapeDataString(id);

    internal static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();
}
