namespace Mogplex.Server.Configuration;

/// <summary>What <c>mogplexd serve</c> was asked for on its command line.</summary>
public sealed record ServeSettings
{
    public required string DataDir { get; init; }

    /// <summary>TCP listen URLs (<c>http://127.0.0.1:7421</c>); port 0 picks a free port.</summary>
    public IReadOnlyList<string> Listen { get; init; } = [];

    /// <summary>Listen on <c>&lt;data-dir&gt;/mogplexd.sock</c> (the default).</summary>
    public bool UnixSocket { get; init; } = true;

    public bool AllowInsecureHttp { get; init; }

    public bool Dev { get; init; }

    /// <summary>Extra configuration (tests and benchmarks), applied last.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>This node's name: leases and sandbox records carry it.</summary>
    public string NodeId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    public string SocketPath => Path.Combine(DataDir, "mogplexd.sock");
}
