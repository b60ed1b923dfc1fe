using System.Text;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>
/// A response body of a hostile server: <paramref name="prefix"/>, then <paramref name="filler"/>
/// over and over up to <paramref name="totalBytes"/> (far more than the CLI reads), then the end.
/// Counts what the reader took, so a test can assert it stopped early.
/// </summary>
public sealed class RepeatingStream(string prefix, string filler, long totalBytes) : Stream
{
    private readonly byte[] _prefix = Encoding.UTF8.GetBytes(prefix);
    private readonly byte[] _filler = Encoding.UTF8.GetBytes(filler);
    private long _position;

    /// <summary>How many bytes the reader has taken so far.</summary>
    public long BytesRead => Interlocked.Read(ref _position);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var position = _position;
        var count = (int)Math.Min(buffer.Length, totalBytes - position);
        for (var i = 0; i < count; i++)
        {
            var at = position + i;
            buffer[i] = at < _prefix.Length ? _prefix[at] : _filler[(at - _prefix.Length) % _filler.Length];
        }

        Interlocked.Add(ref _position, count);
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
