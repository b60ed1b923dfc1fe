using Mogplex.Server.Validation;

namespace Mogplex.Server.Tests.Validation;

public class RootDirectoryTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData(".", "")]
    [InlineData("./", "")]
    [InlineData(".//", "")]
    [InlineData("././.", "")]
    [InlineData("a", "a")]
    [InlineData("a/", "a")]
    [InlineData("a//b/", "a/b")]
    [InlineData("./a/./b", "a/b")]
    [InlineData("a/./b//c/", "a/b/c")]
    [InlineData("a///b////", "a/b")]
    [InlineData("src/Mogplex.Server", "src/Mogplex.Server")]
    [InlineData(".hidden/x", ".hidden/x")] // dot-files are ordinary names
    [InlineData("a..b", "a..b")] // ".." only matters as a whole segment
    [InlineData("..a/b..", "..a/b..")]
    [InlineData("a b/c d", "a b/c d")]
    [InlineData("~/x", "~/x")] // '~' is only special to shells, never expanded here
    public void TryNormalize_RelativePath_ReturnsNormalized(string input, string expected)
    {
        Assert.True(RootDirectory.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("文档/ドキュメント", "文档/ドキュメント")]
    [InlineData("café/naïve/", "café/naïve")]
    [InlineData("./Ünïcödé//дир", "Ünïcödé/дир")]
    [InlineData("\ud83d\udcc1/x", "\ud83d\udcc1/x")] // emoji: a valid surrogate pair
    public void TryNormalize_UnicodeDirectoryName_IsAllowed(string input, string expected)
    {
        Assert.True(RootDirectory.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public void TryNormalize_Null_ReturnsRepoRoot()
    {
        Assert.True(RootDirectory.TryNormalize(null, out var normalized));
        Assert.Equal("", normalized);
    }

    [Theory]
    [InlineData("..")] // traversal
    [InlineData("../")]
    [InlineData("../x")]
    [InlineData("a/../b")]
    [InlineData("a/..")]
    [InlineData("a/b/../../..")]
    [InlineData("./..")]
    [InlineData("...")] // Windows trims trailing dots, so this can alias ".."
    [InlineData("a/..../b")]
    [InlineData("%2e%2e")] // percent-encoded traversal: any '%' is rejected
    [InlineData("%2E%2e/x")]
    [InlineData("..%2f")]
    [InlineData("..%2F..%2Fetc")]
    [InlineData("%252e%252e")] // double-encoded
    [InlineData("%c0%ae%c0%ae")] // overlong UTF-8
    [InlineData("%u002e%u002e")] // IIS-style
    [InlineData("a%00b")]
    [InlineData("100%")] // documented cost of the simple rule
    [InlineData("/etc")] // absolute
    [InlineData("/")]
    [InlineData("//x")]
    [InlineData("/./a")]
    [InlineData("a\0b")] // NUL
    [InlineData("\0")]
    [InlineData("a\nb")] // other control characters
    [InlineData("a\tb")]
    [InlineData("a\u007fb")]
    [InlineData("a\u0085b")]
    [InlineData("\\..\\")] // backslash
    [InlineData("..\\x")]
    [InlineData("a\\b")]
    [InlineData("\\\\server\\share")]
    [InlineData("C:/x")] // drive letter
    [InlineData("C:x")]
    [InlineData("a:b")]
    public void TryNormalize_UnsafePath_ReturnsFalse(string input)
    {
        Assert.False(RootDirectory.TryNormalize(input, out var normalized));
        Assert.Equal("", normalized);
    }

    [Fact]
    public void TryNormalize_UnpairedSurrogate_ReturnsFalse()
    {
        // Not [InlineData]: attribute strings are stored as UTF-8, which would turn a lone surrogate into U+FFFD.
        string[] inputs = ["a\ud800b", "a\udc00", "\ud83d", "\udcc1\ud83d"];
        foreach (var input in inputs)
        {
            Assert.False(RootDirectory.TryNormalize(input, out var normalized));
            Assert.Equal("", normalized);
        }
    }

    [Fact]
    public void TryNormalize_MaxLengthPath_IsAccepted()
    {
        var input = new string('a', 1000);
        Assert.True(RootDirectory.TryNormalize(input, out var normalized));
        Assert.Equal(input, normalized);
    }

    [Fact]
    public void TryNormalize_LongerThanMaxLength_ReturnsFalse()
    {
        Assert.False(RootDirectory.TryNormalize(new string('a', 1001), out var normalized));
        Assert.Equal("", normalized);
    }

    [Fact]
    public void TryNormalize_LongerThanMaxLengthBeforeNormalization_ReturnsFalse()
    {
        // The limit applies to the raw input, so padding with "./" cannot smuggle in a huge request.
        var input = string.Concat(Enumerable.Repeat("./", 501)) + "a";
        Assert.False(RootDirectory.TryNormalize(input, out _));
    }

    [Fact]
    public void TryNormalize_NormalizedOutput_IsStable()
    {
        Assert.True(RootDirectory.TryNormalize("./a//b/./c/", out var once));
        Assert.True(RootDirectory.TryNormalize(once, out var twice));
        Assert.Equal("a/b/c", twice);
    }
}
