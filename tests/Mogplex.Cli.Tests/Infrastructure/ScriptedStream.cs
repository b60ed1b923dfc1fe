using System.Text;
using System.Threading.Channels;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>
/// A response body that yields its bytes, then closes, drops or hangs (see <see cref="StreamEnding"/>).
/// A hanging stream takes more bytes from <see cref="Push"/>, like a live server sending later events.
/// </summary>
public sealed class ScriptedStream(byte[] content, StreamEnding ending) : Stream
{
    private readonly Channel<byte[]> _pushed = Channel.CreateUnbounded<byte[]>();
    private byte[] _current = content;
    private int _position;

    public ScriptedStream(string content, StreamEnding ending)
        : this(Encoding.UTF8.GetBytes(content), ending)
    {
    }

    /// <summary>The most bytes one read returns (a server whose bytes arrive a few at a time); unlimited when null.</summary>
    public int? MaxChunk { get; init; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>More bytes for a hanging stream's reader.</summary>
    public void Push(string frames) => _pushed.Writer.TryWrite(Encoding.UTF8.GetBytes(frames));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (_position >= _current.Length)
        {
            switch (ending)
            {
                case StreamEnding.Drop:
                    throw new IOException("The response ended prematurely (connection reset by peer).");
                case StreamEnding.Hang:
                    _current = await _pushed.Reader.ReadAsync(cancellationToken);
                    _position = 0;
                    break;
                default:
                    return 0;
            }
        }

        var n = Math.Min(Math.Min(buffer.Length, _current.Length - _position), MaxChunk ?? int.MaxValue);
        _current.AsMemory(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
