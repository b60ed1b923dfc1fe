namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>How a scripted response body ends once its bytes are read.</summary>
public enum StreamEnding
{
    /// <summary>End of stream: the server closed the connection cleanly.</summary>
    Close,

    /// <summary>An <see cref="IOException"/>: the connection dropped.</summary>
    Drop,

    /// <summary>No more bytes until the reader gives up (its cancellation token).</summary>
    Hang,
}
