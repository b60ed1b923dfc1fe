using System.Text;
using System.Text.Json;

namespace Mogplex.Client.Streaming;

/// <summary>One message of a Server-Sent Events stream.</summary>
public sealed record SseMessage(string? Id, string Event, string Data);

/// <summary>
/// An open <c>text/event-stream</c> answer of <c>GET /runs/{id}/events</c>, read message by
/// message (the SSE framing of the WHATWG spec: <c>id</c>, <c>event</c>, multi-line <c>data</c>,
/// comments ignored). Disposing it closes the connection; the run is not affected.
/// </summary>
public sealed class RunEventFeed : IDisposable
{
    private readonly HttpRequestMessage _request;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

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
                line = await _reader.ReadLineAsync(ct);
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
