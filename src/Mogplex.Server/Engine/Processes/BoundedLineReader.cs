using System.Globalization;
using System.Text;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// Reads UTF-8 text lines from a byte stream in fixed-size chunks, holding at most
/// <c>maxLineBytes</c> of any one line: a longer line keeps its first bytes (never half a
/// character) behind a marker, <c>[line truncated: N bytes, first K kept] </c>, and the rest is
/// counted and skipped as it arrives. Memory stays at one chunk plus one bounded line, whatever
/// the process prints. Line ends are those of <see cref="StreamReader.ReadLine"/>: <c>\n</c>,
/// <c>\r\n</c> or a lone <c>\r</c>; a last line without one still counts; a UTF-8 byte order mark
/// at the start is dropped; invalid UTF-8 becomes U+FFFD.
/// </summary>
/// <remarks>
/// The marker goes in front of the kept text, not after it: everything downstream keeps the head
/// of a long string (the event sanitizer's 2,000-character cut, the install log's size bound), so
/// a marker at the end would be cut away with the tail it describes.
/// </remarks>
public sealed class BoundedLineReader
{
    /// <summary>The default of <c>Runs:MaxLineBytes</c>: 1 MiB.</summary>
    public const int DefaultMaxLineBytes = Configuration.RunsOptions.DefaultMaxLineBytes;

    private const int ChunkBytes = 64 * 1024;
    private const int InitialLineBytes = 4 * 1024;

    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private readonly byte[] _chunk;
    private byte[] _line = new byte[InitialLineBytes];
    private int _kept;
    private long _total;
    private int _position;
    private int _end;
    private bool _skipLineFeed;
    private bool _started;
    private bool _eof;

    public BoundedLineReader(Stream stream, int maxLineBytes = DefaultMaxLineBytes, int chunkBytes = ChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _chunk = new byte[chunkBytes];
    }

    /// <summary>The marker put in front of a line cut at <paramref name="keptBytes"/> of its <paramref name="totalBytes"/>.</summary>
    public static string Marker(long totalBytes, int keptBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"[line truncated: {totalBytes} bytes, first {keptBytes} kept] ");

    /// <summary>The next line without its line end, or null at the end of the stream.</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_position == _end)
            {
                if (_eof)
                {
                    return null;
                }

                _position = 0;
                _end = await _stream.ReadAsync(_chunk, cancellationToken);
                if (_end == 0)
                {
                    _eof = true;
                    // The last line has no line end: it is a line all the same (as for StreamReader).
                    return _total > 0 ? TakeLine() : null;
                }

                if (!_started)
                {
                    _started = true;
                    SkipByteOrderMark();
                    continue;
                }
            }

            if (_skipLineFeed)
            {
                // The previous line ended with \r: a \n right after it (even in the next chunk) belongs to it.
                _skipLineFeed = false;
                if (_chunk[_position] == (byte)'\n')
                {
                    _position++;
                    continue;
                }
            }

            var available = _chunk.AsSpan(_position, _end - _position);
            var eol = available.IndexOfAny((byte)'\n', (byte)'\r');
            if (eol < 0)
            {
                Keep(available);
                _position = _end;
                continue;
            }

            Keep(available[..eol]);
            _skipLineFeed = available[eol] == (byte)'\r';
            _position += eol + 1;
            return TakeLine();
        }
    }

    /// <summary>Keeps what still fits under the bound and counts all of it.</summary>
    private void Keep(ReadOnlySpan<byte> bytes)
    {
        _total += bytes.Length;
        var room = _maxLineBytes - _kept;
        if (room <= 0 || bytes.IsEmpty)
        {
            return;
        }

        var take = Math.Min(room, bytes.Length);
        if (_kept + take > _line.Length)
        {
            var grown = (int)Math.Min(_maxLineBytes, Math.Max((long)_line.Length * 2, _kept + take));
            Array.Resize(ref _line, grown);
        }

        bytes[..take].CopyTo(_line.AsSpan(_kept));
        _kept += take;
    }

    private string TakeLine()
    {
        string text;
        if (_total <= _kept)
        {
            text = Encoding.UTF8.GetString(_line, 0, _kept);
        }
        else
        {
            var whole = WholeCharacters(_line.AsSpan(0, _kept));
            text = Marker(_total, whole) + Encoding.UTF8.GetString(_line, 0, whole);
        }

        _kept = 0;
        _total = 0;
        if (_line.Length > InitialLineBytes * 16)
        {
            // One long line must not keep its buffer for the rest of the process's life.
            _line = new byte[InitialLineBytes];
        }

        return text;
    }

    /// <summary>
    /// The length of <paramref name="bytes"/> without a character the cut split: when the last
    /// lead byte starts a sequence longer than what follows it, the cut moves in front of it.
    /// </summary>
    internal static int WholeCharacters(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            var length = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return back < length ? bytes.Length - back : bytes.Length;
        }

        // Only continuation bytes at the end: not UTF-8 to begin with; nothing to protect.
        return bytes.Length;
    }

    private void SkipByteOrderMark()
    {
        // Only when the first read has the whole mark: a pipe delivers at least what was written at once.
        if (_end - _position >= 3 && _chunk[_position] == 0xEF && _chunk[_position + 1] == 0xBB && _chunk[_position + 2] == 0xBF)
        {
            _position += 3;
        }
    }
}
