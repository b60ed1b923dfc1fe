using System.Globalization;
using System.Text.Json.Serialization.Metadata;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>How a request reaches the server: its Unix socket or its TCP listener.</summary>
public enum Transport
{
    UnixSocket,
    Tcp,
}

/// <summary>An HTTP answer as curl saw it.</summary>
public sealed record CurlResponse(int Status, string Body, CommandResult Command)
{
    /// <summary>Deserializes the body with the contract's source-generated metadata; fails the test on anything else.</summary>
    public T Json<T>(JsonTypeInfo<T> type)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(Body, type) ?? throw new InvalidOperationException("null body");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            Assert.Fail($"unexpected body for {typeof(T).Name}: {ex.Message}\n{Command}");
            throw;
        }
    }
}

/// <summary>Drives the API with the real <c>curl</c>, over the Unix socket or TCP.</summary>
public static class Curl
{
    public const string ApiBase = "/api/v1/mogplex";

    public static async Task<CurlResponse> SendAsync(
        ServerProcess server,
        Transport transport,
        string method,
        string path,
        string? token = null,
        string? body = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        List<string> args = ["-sS", "--max-time", "15", "-X", method, "-w", "\n%{http_code}"];
        if (token is not null)
        {
            args.AddRange(["-H", "Authorization: Bearer " + token]);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            args.AddRange(["-H", $"{name}: {value}"]);
        }

        if (body is not null)
        {
            args.AddRange(["-H", "Content-Type: application/json", "--data-binary", body]);
        }

        args.AddRange(Target(server, transport, path));
        var result = await ProcessRunner.RunAsync("curl", args, null, null, TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, result.ToString());
        var split = result.StdOut.LastIndexOf('\n');
        Assert.True(split >= 0, result.ToString());
        return new CurlResponse(int.Parse(result.StdOut[(split + 1)..], CultureInfo.InvariantCulture), result.StdOut[..split], result);
    }

    public static Task<CurlResponse> GetAsync(ServerProcess server, Transport transport, string path, string? token = null) =>
        SendAsync(server, transport, "GET", path, token);

    /// <summary>curl arguments for following a run's live event stream (<c>-N</c>, <c>Accept: text/event-stream</c>).</summary>
    public static IReadOnlyList<string> StreamArgs(ServerProcess server, Transport transport, string runId, string token, string? lastEventId = null)
    {
        List<string> args = ["-sS", "-N", "--max-time", "30", "-H", "Accept: text/event-stream", "-H", "Authorization: Bearer " + token];
        if (lastEventId is not null)
        {
            args.AddRange(["-H", "Last-Event-ID: " + lastEventId]);
        }

        args.AddRange(Target(server, transport, $"{ApiBase}/runs/{runId}/events"));
        return args;
    }

    /// <summary>Follows a run's event stream until the server ends it; returns the events.</summary>
    public static async Task<IReadOnlyList<SseEvent>> StreamAsync(ServerProcess server, Transport transport, string runId, string token, string? lastEventId = null)
    {
        var result = await ProcessRunner.RunAsync("curl", StreamArgs(server, transport, runId, token, lastEventId), null, null, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        return SseEvent.Parse(result.StdOut);
    }

    /// <summary>curl arguments that reach <paramref name="path"/> over the transport.</summary>
    public static IReadOnlyList<string> Target(ServerProcess server, Transport transport, string path) =>
        transport == Transport.UnixSocket
            ? ["--unix-socket", server.SocketPath, "http://localhost" + path]
            : [new Uri(server.BaseAddress, path).ToString()];
}

/// <summary>One Server-Sent Event as written on the wire.</summary>
public sealed record SseEvent(string? Id, string Event, string Data)
{
    /// <summary>Splits a complete SSE body into events; comments (keep-alives) are skipped.</summary>
    public static IReadOnlyList<SseEvent> Parse(string body)
    {
        var events = new List<SseEvent>();
        foreach (var block in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? id = null, name = null, data = null;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                Assert.True(colon > 0, $"malformed SSE line '{line}' in:\n{body}");
                var value = line[(colon + 2)..];
                switch (line[..colon])
                {
                    case "id": id = value; break;
                    case "event": name = value; break;
                    case "data": data = value; break;
                    default: Assert.Fail($"unexpected SSE field in '{line}'"); break;
                }
            }

            if (name is not null || data is not null)
            {
                events.Add(new SseEvent(id, name ?? "message", data ?? ""));
            }
        }

        return events;
    }
}
