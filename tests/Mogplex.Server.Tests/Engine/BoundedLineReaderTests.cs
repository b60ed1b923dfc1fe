using System.Text;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Tests.Engine;

/// <summary>The bounded reader of harness output: line ends, chunk boundaries, UTF-8 and the cut of long lines.</summary>
public sealed class BoundedLineReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every line of <paramref name="bytes"/>, read with the given bound and chunk size.</summary>
    private static async Task<List<string>> ReadAllAsync(byte[] bytes, int maxLineBytes = 1024, int chunkBytes = 64 * 1024)
    {
        var reader = new BoundedLineReader(new MemoryStream(bytes), maxLineBytes, chunkBytes);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>What <see cref="StreamReader.ReadLineAsync()"/> makes of the same bytes: the behaviour kept.</summary>
    private static async Task<List<string>> StreamReaderLinesAsync(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(Ct) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    [Theory]
    [InlineData("one\ntwo\n")]
    [InlineData("one\r\ntwo\r\n")]
    [InlineData("one\rtwo\r")]
    [InlineData("one\n\n\ntwo")]
    [InlineData("no newline at the end")]
    [InlineData("\r\n\r\n")]
    [InlineData("\n")]
    [InlineData("")]
    [InlineData("mixed\r\r\nends\n\rhere")]
    public async Task ReadLine_LineEnds_SameLinesAsStreamReaderAtEveryChunkSize(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var expected = await StreamReaderLinesAsync(bytes);

        foreach (var chunk in new[] { 1, 2, 3, 5, 64 * 1024 })
        {
            Assert.Equal(expected, await ReadAllAsync(bytes, chunkBytes: chunk));
        }
    }

    [Fact]
    public async Task ReadLine_CrLfSplitAcrossChunks_OneLineEndNotTwo()
    {
        var bytes = Encoding.UTF8.GetBytes("ab\r\ncd\r\n");

        // Chunks "ab\r" and "\ncd" and "\r\n": the \n of a \r\n arrives in the next read.
        Assert.Equal(["ab", "cd"], await ReadAllAsync(bytes, chunkBytes: 3));
    }

    [Fact]
    public async Task ReadLine_MultiByteCharactersAcrossEveryChunkBoundary_DecodedWhole()
    {
        var text = "héllo wörld — 日本語 😀🎉 ok\nzweite Zeile ü\n";
        var bytes = Encoding.UTF8.GetBytes(text);

        foreach (var chunk in Enumerable.Range(1, 9))
        {
            var lines = await ReadAllAsync(bytes, chunkBytes: chunk);
            Assert.Equal(["héllo wörld — 日本語 😀🎉 ok", "zweite Zeile ü"], lines);
        }
    }

    [Fact]
    public async Task ReadLine_LineOverTheBound_KeepsItsHeadBehindTheMarkerAndTheNextLineWhole()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('a', 100_000) + "\nnext\n");

        var lines = await ReadAllAsync(bytes, maxLineBytes: 16, chunkBytes: 7);

        Assert.Equal(["[line truncated: 100000 bytes, first 16 kept] aaaaaaaaaaaaaaaa", "next"], lines);
    }

    [Fact]
    public async Task ReadLine_LineExactlyAtTheBound_NotCut()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('b', 16) + "\r\n" + new string('c', 17));

        var lines = await ReadAllAsync(bytes, maxLineBytes: 16, chunkBytes: 5);

        Assert.Equal([new string('b', 16), "[line truncated: 17 bytes, first 16 kept] " + new string('c', 16)], lines);
    }

    [Theory]
    [InlineData("é", 2)]
    [InlineData("日", 3)]
    [InlineData("😀", 4)]
    public async Task ReadLine_CutInsideAMultiByteCharacter_CutsBeforeIt(string character, int size)
    {
        // Ten ASCII bytes, then the character straddling the bound at 11 bytes: it is left out whole.
        var line = "0123456789" + character + "tail";
        var bytes = Encoding.UTF8.GetBytes(line + "\n");

        foreach (var chunk in new[] { 1, 4, 64 })
        {
            var lines = await ReadAllAsync(bytes, maxLineBytes: 11, chunkBytes: chunk);
            Assert.Equal([$"[line truncated: {10 + size + 4} bytes, first 10 kept] 0123456789"], lines);
        }
    }

    [Fact]
    public async Task ReadLine_CutRightAfterAWholeMultiByteCharacter_KeepsIt()
    {
        var bytes = Encoding.UTF8.GetBytes("0123456789😀more\n");

        var lines = await ReadAllAsync(bytes, maxLineBytes: 14);

        Assert.Equal(["[line truncated: 18 bytes, first 14 kept] 0123456789😀"], lines);
    }

    [Fact]
    public async Task ReadLine_LongLineWithoutNewlineAtTheEnd_CutAndReturned()
    {
        var bytes = Encoding.UTF8.GetBytes("short\n" + new string('x', 5000));

        var lines = await ReadAllAsync(bytes, maxLineBytes: 100, chunkBytes: 64);

        Assert.Equal(["short", "[line truncated: 5000 bytes, first 100 kept] " + new string('x', 100)], lines);
    }

    [Fact]
    public async Task ReadLine_InvalidUtf8_ReplacementCharacterAsStreamReader()
    {
        byte[] bytes = [(byte)'a', 0xFF, (byte)'b', 0xC3, (byte)'\n', 0xE2, 0x82, (byte)'c', (byte)'\n'];

        Assert.Equal(await StreamReaderLinesAsync(bytes), await ReadAllAsync(bytes, chunkBytes: 1));
    }

    [Fact]
    public async Task ReadLine_ByteOrderMarkAtTheStart_Dropped()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("first\nsecond")];

        Assert.Equal(["first", "second"], await ReadAllAsync(bytes));
    }

    [Fact]
    public async Task ReadLine_ManyLinesLongerThanAChunk_EachWholeAndInOrder()
    {
        var expected = Enumerable.Range(0, 50).Select(i => $"{i}:" + new string((char)('a' + (i % 26)), 300 + i)).ToList();
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", expected) + "\n");

        Assert.Equal(expected, await ReadAllAsync(bytes, maxLineBytes: 1024, chunkBytes: 97));
    }

    [Fact]
    public void Marker_NamesTheLineLengthAndWhatWasKept() =>
        Assert.Equal("[line truncated: 400000000 bytes, first 1048576 kept] ", BoundedLineReader.Marker(400_000_000, 1_048_576));
}
