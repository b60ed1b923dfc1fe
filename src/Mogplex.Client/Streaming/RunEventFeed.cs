using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Mogplex.Client.Streaming;

/// <summary>One message of a Server-Sent Events stream.</summary>
public sealed record SseMessage(string? Id, string Event, string Data);

/// <summary>
/// An open <c>text/event-stream</c> answer of <c>GET /runs/{id}/events</c>, read message by
/// message (the SSE framing of the WHATWG spec: <c>id</c>, <c>event</c>, multi-line <c>data</c>,
/// comments ignored). A line, or the data of one message, longer than <see cref="MaxMessageChars"/>
/// ends the stream with an <see cref="ApiException"/> before more of it is held in memory.
/// Disposing it closes the connection; the run is not affected.
/// </summary>
public sealed class RunEventFeed : IDisposable
{
    /// <summary>
    /// The longest line and the longest data of one message, in characters (1 Mi). A Mogplex event
    /// is at most about 140 KB of JSON (a 2,000-character message, a 20,000-character payload, every
    /// character escaped).
    /// </summary>
    public const int MaxMessageChars = 1024 * 1024;

    private readonly HttpRequestMessage _request;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly char[] _chars = new char[16 * 1024];
    private readonly StringBuilder _line = new();
    private int _start;
    private int _end;
    private bool _afterCarriageReturn;

    internal RunEventFeed(HttpRequestMessage request, HttpResponseMessage response, Stream body)
    {
        _request = request;
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public static RunEventFeed FromStream(Stream body) => new(new HttpRequestMessage(), new HttpResponseMessage(), body);

    /// <summary>The next message, or null at the end of the stream. Throws <see cref="IOException"/> when the connection drops.</summary>
    public async Task<SseMessage?> ReadAsync(CancellationToken ct)
    {
        string? id = null;
        var type = "message";
        var data = new StringBuilder();
        var any = false;
        while (true)
        {
            string? line;
            try
            {
                line = await ReadLineAsync(ct);
            }
            catch (HttpRequestException e)
            {
                throw new IOException(e.Message, e);
            }

            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (any)
                {
                    return new SseMessage(id, type, data.ToString());
                }

                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "id":
                    id = value;
                    any = true;
                    break;
                case "event":
                    type = value;
                    any = true;
                    break;
                case "data":
                    if (data.Length + 1 + value.Length > MaxMessageChars)
                    {
                        throw TooLong("an event-stream message");
                    }

                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    any = true;
                    break;
            }
        }
    }

    /// <summary>
    /// The next line without its end (CR, LF or CRLF), or null at the end of the stream (an
    /// unfinished last line is dropped, as the SSE spec drops an unfinished message).
    /// </summary>
    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        _line.Clear();
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _reader.ReadAsync(_chars.AsMemory(), ct);
                if (_end == 0)
                {
                    return null;
                }
            }

            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (_chars[_start] == '\n')
                {
                    _start++;
                    continue;
                }
            }

            var pending = _chars.AsSpan(_start, _end - _start);
            var end = pending.IndexOfAny('\r', '\n');
            var length = end < 0 ? pending.Length : end;
            if (_line.Length + length > MaxMessageChars)
            {
                throw TooLong("an event-stream line");
            }

            _line.Append(pending[..length]);
            if (end < 0)
            {
                _start = _end;
                continue;
            }

            _afterCarriageReturn = pending[end] == '\r';
            _start += end + 1;
            return _line.ToString();
        }
    }

    private static ApiException TooLong(string what) =>
        new(HttpStatusCode.OK, "HTTP_200", string.Create(CultureInfo.InvariantCulture, $"unexpected answer from the server: {what} longer than {MaxMessageChars:N0} characters"), isEnvelope: false, null);

    /// <summary>Parses a message's data as JSON (null when it is not JSON).</summary>
    public static JsonElement? ParseData(SseMessage message)
    {
        try
        {
            using var document = JsonDocument.Parse(message.Data);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
        _request.Dispose();
    }
}
