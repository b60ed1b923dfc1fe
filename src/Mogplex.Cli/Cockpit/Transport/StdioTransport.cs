using System.Runtime.CompilerServices;
using System.Text;
using Mogplex.Cli.Cockpit.State;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// The read-only replay transport (cockpit.md): JSONL on a stream (the piped stdin, or a file)
/// read by <see cref="JsonlEvents"/>; it can show, not act, so every command is refused with
/// that reason. Health is <c>nominal</c> while lines come, <c>degraded</c> when some could not be
/// read (how many), <c>offline</c> at the end of the input (the screen stays for reading).
/// </summary>
public sealed class StdioTransport(Stream input) : ICockpitTransport
{
    public const string ReadOnly = "this is a read-only replay (stdio transport): nothing can be sent to a run";

    /// <summary>
    /// Read buffers under the large-object size (85,000 bytes): larger ones count against the
    /// large-object budget that the first frame's surfaces already use up, and tipped it into a
    /// full garbage collection before the first paint (bench/cockpit.sh).
    /// </summary>
    private const int BufferSize = 16 * 1024;

    public string Name => "stdio";

    public async IAsyncEnumerable<CockpitEvent> ReadAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new JsonlEvents();
        using var lines = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: BufferSize, leaveOpen: true);
        yield return new CockpitEvent.HealthChanged(TransportHealth.Nominal);
        var skipped = 0;
        var split = new BoundedLines(lines);
        while (await split.NextAsync(ct) is { } line)
        {
            foreach (var e in reader.Read(line))
            {
                yield return e;
            }

            if (reader.Skipped != skipped)
            {
                skipped = reader.Skipped;
                yield return new CockpitEvent.HealthChanged(TransportHealth.Degraded, $"{skipped} line{(skipped == 1 ? "" : "s")} of the input could not be read");
            }
        }

        yield return new CockpitEvent.HealthChanged(TransportHealth.Offline, skipped == 0 ? "end of the input" : $"end of the input; {skipped} line{(skipped == 1 ? "" : "s")} could not be read");
    }

    public Task<string?> SendAsync(CockpitCommand command, CancellationToken ct) => Task.FromResult<string?>(ReadOnly);

    public ValueTask DisposeAsync()
    {
        input.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Splits a character stream into lines, keeping at most <see cref="JsonlEvents.MaxLineChars"/> + 1 characters of each (a longer line is read to its end and handed on too long, to be skipped).</summary>
    private sealed class BoundedLines(StreamReader reader)
    {
        private readonly char[] _buffer = new char[BufferSize];
        private readonly StringBuilder _line = new();
        private int _start;
        private int _end;

        public async Task<string?> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = await reader.ReadAsync(_buffer.AsMemory(), ct);
                    if (_end == 0)
                    {
                        return _line.Length == 0 ? null : Take();
                    }
                }

                var newline = Array.IndexOf(_buffer, '\n', _start, _end - _start);
                var stop = newline < 0 ? _end : newline;
                var room = JsonlEvents.MaxLineChars + 1 - _line.Length;
                _line.Append(_buffer, _start, Math.Clamp(stop - _start, 0, Math.Max(0, room)));
                _start = newline < 0 ? _end : newline + 1;
                if (newline >= 0)
                {
                    return Take();
                }
            }
        }

        private string Take()
        {
            var line = _line.ToString();
            _line.Clear();
            return line;
        }
    }
}
