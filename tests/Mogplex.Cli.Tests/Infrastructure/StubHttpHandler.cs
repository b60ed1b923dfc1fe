using System.Threading.Channels;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>
/// A strict HTTP stand-in for the server: a registry of expected requests (method, path under the
/// API root, exact query) and their answers. A request no stub expects is recorded and fails the
/// test in <see cref="Verify"/> (the CLI sees an exception, never a made-up answer); a stub that was
/// not used as often as expected fails it too. Every request is recorded with its headers and body.
/// </summary>
public sealed class StubHttpHandler : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<Stub> _stubs = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<string> _unmatched = [];
    private readonly Channel<RecordedRequest> _arrivals = Channel.CreateUnbounded<RecordedRequest>();

    /// <summary>The path stubs are relative to (a base URL with a path prefix changes it).</summary>
    public string ApiRoot { get; set; } = "/api/v1/mogplex";

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Expects <paramref name="method"/> on <paramref name="pathAndQuery"/> (relative to <see cref="ApiRoot"/>; the query must match exactly).</summary>
    public Stub On(HttpMethod method, string pathAndQuery)
    {
        var question = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var stub = question < 0
            ? new Stub(method, pathAndQuery, "")
            : new Stub(method, pathAndQuery[..question], pathAndQuery[(question + 1)..]);
        lock (_gate)
        {
            _stubs.Add(stub);
        }

        return stub;
    }

    public Stub Get(string pathAndQuery) => On(HttpMethod.Get, pathAndQuery);

    public Stub Post(string pathAndQuery) => On(HttpMethod.Post, pathAndQuery);

    /// <summary>Waits (bounded) for the next request to arrive.</summary>
    public async Task<RecordedRequest> NextRequestAsync(TimeSpan? timeout = null) =>
        await _arrivals.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(timeout ?? CliHarness.Deadline, TestContext.Current.CancellationToken);

    /// <summary>Fails on any request no stub expected, and on any stub not used as often as expected.</summary>
    public void Verify()
    {
        lock (_gate)
        {
            Assert.True(_unmatched.Count == 0, $"unexpected request(s): {string.Join(", ", _unmatched)}");
            var unused = _stubs.Where(s => s.Used != s.Expected).Select(s => $"{s} (used {s.Used} of {s.Expected})").ToList();
            Assert.True(unused.Count == 0, $"stub(s) not used as expected: {string.Join(", ", unused)}");
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = string.Join(", ", header.Value);
        }

        string? body = null;
        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers)
            {
                headers[header.Key] = string.Join(", ", header.Value);
            }

            body = await request.Content.ReadAsStringAsync(cancellationToken);
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        Stub? stub;
        lock (_gate)
        {
            _requests.Add(recorded);
            stub = _stubs.FirstOrDefault(s => s.Matches(recorded, ApiRoot));
            if (stub is null)
            {
                _unmatched.Add($"{recorded.Method} {recorded.Uri}");
            }
            else
            {
                stub.Used++;
            }
        }

        _arrivals.Writer.TryWrite(recorded);
        return stub is null
            ? throw new InvalidOperationException($"no stub expects {recorded.Method} {recorded.Uri}")
            : await stub.AnswerAsync(recorded, cancellationToken);
    }
}
