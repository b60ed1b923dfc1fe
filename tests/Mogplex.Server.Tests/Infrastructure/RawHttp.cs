using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 written byte for byte on a TCP socket, for requests no HTTP client will send (a NUL in
/// the request line, header bytes that are not UTF-8). Each request asks for <c>Connection: close</c>
/// and the answer is read to the end of the connection.
/// </summary>
public static class RawHttp
{
    public sealed record Answer(int Status, string StatusLine, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
    {
        public string? Header(string name) =>
            Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

        public JsonElement Json() => JsonDocument.Parse(Body).RootElement.Clone();
    }

    /// <summary>A GET whose request line and extra header lines are written as Latin-1 (each char one byte, as given).</summary>
    public static byte[] Get(string target, string? token, params string[] headerLines) =>
        Encoding.Latin1.GetBytes(
            $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
            (token is null ? "" : $"Authorization: Bearer {token}\r\n") +
            string.Concat(headerLines.Select(h => h + "\r\n")) + "\r\n");

    public static async Task<Answer> SendAsync(ServerFixture server, byte[] request)
    {
        using var tcp = new TcpClient();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ServerFixture.Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, deadline.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request, deadline.Token);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, deadline.Token);
        return Parse(Encoding.Latin1.GetString(received.ToArray()));
    }

    private static Answer Parse(string raw)
    {
        var headEnd = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"no complete answer: {raw}");
        var lines = raw[..headEnd].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => new KeyValuePair<string, string>(p[0], p[1].Trim())).ToList();
        var body = raw[(headEnd + 4)..];
        if (headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && h.Value == "chunked"))
        {
            var unchunked = new StringBuilder();
            var at = 0;
            while (true)
            {
                var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = int.Parse(body[at..lineEnd], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    break;
                }

                unchunked.Append(body, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }

            body = unchunked.ToString();
        }

        // The body's bytes were read as Latin-1; JSON is UTF-8.
        return new Answer(status, lines[0], headers, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(body)));
    }

    /// <summary>The exact error envelope with the status its code maps to, and a generated <c>X-Request-Id</c> (or <paramref name="requestId"/>).</summary>
    public static void AssertEnvelope(Answer answer, HttpStatusCode status, string code, string message, string? requestId = null)
    {
        Assert.True(answer.Status == (int)status, $"expected {(int)status}, got {answer.StatusLine}: {answer.Body}");
        Assert.StartsWith("application/json", answer.Header("Content-Type"), StringComparison.Ordinal);
        var root = answer.Json();
        Assert.Equal(["ok", "error"], root.EnumerateObject().Select(p => p.Name));
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(message, root.GetProperty("error").GetProperty("message").GetString());
        if (requestId is null)
        {
            Assert.Matches("^[0-9a-f]{32}$", answer.Header("X-Request-Id"));
        }
        else
        {
            Assert.Equal(requestId, answer.Header("X-Request-Id"));
        }
    }
}
