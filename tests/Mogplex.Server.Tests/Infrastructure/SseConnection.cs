using System.Net.Http.Headers;
using System.Text;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>One Server-Sent Events frame: its fields, or comment lines only (a keep-alive).</summary>
public sealed record SseFrame(string? Id, string? Event, string? Data, IReadOnlyList<string> Comments, string Raw)
{
    public bool IsComment => Id is null && Event is null && Data is null && Comments.Count > 0;
}

/// <summary>
/// A live <c>GET /runs/{id}/events</c> stream read from the raw bytes: frames end at a blank line
/// (<c>\n\n</c>, the only separator the server writes), and every read has a deadline.
/// </summary>
public sealed class SseConnection : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;
    private readonly List<byte> _pending = [];
    private readonly byte[] _chunk = new byte[8192];

    private SseConnection(HttpResponseMessage response, Stream stream)
    {
        _response = response;
        _stream = stream;
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Opens the stream (headers read, body not); answers that are not a stream are returned as they are.</summary>
    public static async Task<(SseConnection? Stream, HttpResponseMessage Response)> TryOpenAsync(HttpClient client, string pathAndQuery, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiClient.Base + pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ServerFixture.Ct).WaitAsync(TimeSpan.FromSeconds(10), ServerFixture.Ct);
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return (null, response);
        }

        var stream = await response.Content.ReadAsStreamAsync(ServerFixture.Ct);
        return (new SseConnection(response, stream), response);
    }

    /// <summary>Opens the stream and fails the test when the answer is not one.</summary>
    public static async Task<SseConnection> OpenAsync(HttpClient client, string pathAndQuery, string? lastEventId = null)
    {
        var (stream, response) = await TryOpenAsync(client, pathAndQuery, lastEventId);
        if (stream is null)
        {
            var text = await response.Content.ReadAsStringAsync(ServerFixture.Ct);
            response.Dispose();
            Assert.Fail($"Expected an event stream, got {(int)response.StatusCode}: {text}");
        }

        return stream!;
    }

    /// <summary>The next frame's exact text including its closing blank line, or null at end of stream (with nothing pending).</summary>
    public async Task<string?> ReadRawFrameAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ServerFixture.Ct);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var end = IndexOfBlankLine();
            if (end >= 0)
            {
                var raw = Encoding.UTF8.GetString([.. _pending.GetRange(0, end + 2)]);
                _pending.RemoveRange(0, end + 2);
                return raw;
            }

            int read;
            try
            {
                read = await _stream.ReadAsync(_chunk, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ServerFixture.Ct.IsCancellationRequested)
            {
                throw new TimeoutException($"No complete SSE frame within {timeout}; pending: {Encoding.UTF8.GetString([.. _pending])}");
            }

            if (read == 0)
            {
                Assert.True(_pending.Count == 0, $"Stream ended inside a frame: {Encoding.UTF8.GetString([.. _pending])}");
                return null;
            }

            _pending.AddRange(_chunk.AsSpan(0, read));
        }
    }

    /// <summary>The next frame, or null at end of stream.</summary>
    public async Task<SseFrame?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        var raw = await ReadRawFrameAsync(timeout ?? TimeSpan.FromSeconds(5));
        return raw is null ? null : Parse(raw);
    }

    /// <summary>The next frame that is not a keep-alive comment, or null at end of stream.</summary>
    public async Task<SseFrame?> ReadEventAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await ReadFrameAsync(timeout);
            if (frame is null || !frame.IsComment)
            {
                return frame;
            }
        }
    }

    /// <summary>Asserts the server closes the stream: no more bytes, then end of stream.</summary>
    public async Task AssertEndedAsync(TimeSpan? timeout = null) => Assert.Null(await ReadRawFrameAsync(timeout ?? TimeSpan.FromSeconds(5)));

    public ValueTask DisposeAsync()
    {
        _response.Dispose();
        return ValueTask.CompletedTask;
    }

    private static SseFrame Parse(string raw)
    {
        string? id = null, type = null, data = null;
        var comments = new List<string>();
        foreach (var line in raw[..^2].Split('\n'))
        {
            if (line.StartsWith(':'))
            {
                comments.Add(line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, $"Malformed SSE line: {line}");
            var value = line[(colon + 1)..];
            value = value.StartsWith(' ') ? value[1..] : value;
            switch (line[..colon])
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    Assert.Null(data);
                    data = value;
                    break;
                default:
                    Assert.Fail($"Unexpected SSE field: {line}");
                    break;
            }
        }

        return new SseFrame(id, type, data, comments, raw);
    }

    private int IndexOfBlankLine()
    {
        for (var i = 0; i + 1 < _pending.Count; i++)
        {
            if (_pending[i] == '\n' && _pending[i + 1] == '\n')
            {
                return i;
            }
        }

        return -1;
    }
}
