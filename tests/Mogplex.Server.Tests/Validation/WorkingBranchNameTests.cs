using System.Globalization;
using System.Text;
using Mogplex.Server.Validation;

namespace Mogplex.Server.Tests.Validation;

public class WorkingBranchNameTests
{
    private const string Prefix = "mogplex/run/2025-03-07/";
    private static readonly DateOnly s_day = new(2025, 3, 7);

    [Theory]
    [InlineData("Fix the login bug!", "fix-the-login-bug")]
    [InlineData("  Hello,   World!!  ", "hello-world")]
    [InlineData("UPPER lower MiXeD", "upper-lower-mixed")]
    [InlineData("Fix bug #123: crash on start-up (v2.0)", "fix-bug-123-crash-on-start-up-v2-0")]
    [InlineData("a__b..c//d\\e", "a-b-c-d-e")]
    [InlineData("refs/heads/main.lock", "refs-heads-main-lock")]
    [InlineData("--leading and trailing--", "leading-and-trailing")]
    [InlineData("line1\nline2\ttab\0nul", "line1-line2-tab-nul")]
    [InlineData("x", "x")]
    [InlineData("42", "42")]
    public void Generate_AsciiPrompt_ReturnsSlug(string prompt, string expectedSlug) =>
        Assert.Equal(Prefix + expectedSlug, WorkingBranchName.Generate(s_day, prompt));

    [Theory]
    [InlineData("")]
    [InlineData("   \t\n")]
    [InlineData("!!!@@@")]
    [InlineData("-")]
    [InlineData("--- ... ///")]
    [InlineData("日本語のテスト")]
    [InlineData("\ud83d\ude80\ud83d\udd25")]
    [InlineData("ＡＢＣ")] // full-width letters are not ASCII
    public void Generate_PromptWithoutAsciiWords_UsesRun(string prompt) =>
        Assert.Equal(Prefix + "run", WorkingBranchName.Generate(s_day, prompt));

    [Theory]
    [InlineData("修复 login bug", "login-bug")]
    [InlineData("naïve café", "nave-caf")] // non-ASCII letters are dropped in place, not turned into '-'
    [InlineData("Crème brûlée \ud83c\udf6e recipe", "crme-brle-recipe")]
    [InlineData("cafe\u0301 time", "cafe-time")] // combining accent dropped
    [InlineData("ÀB", "b")]
    [InlineData("\u0663 items", "items")] // Arabic-Indic digit dropped
    [InlineData("emoji\ud83d\ude00between", "emoji-between")] // symbols separate words
    [InlineData("a\u00a0b\u2003c", "a-b-c")] // Unicode spaces separate words
    public void Generate_UnicodePrompt_DropsNonAsciiLetters(string prompt, string expectedSlug) =>
        Assert.Equal(Prefix + expectedSlug, WorkingBranchName.Generate(s_day, prompt));

    [Fact]
    public void Generate_LoneSurrogate_SeparatesWords()
    {
        // Not [InlineData]: attribute strings are stored as UTF-8, which would turn a lone surrogate into U+FFFD.
        Assert.Equal(Prefix + "a-b", WorkingBranchName.Generate(s_day, "a\ud800b"));
        Assert.Equal(Prefix + "a-b", WorkingBranchName.Generate(s_day, "a\udc00b"));
    }

    [Fact]
    public void Generate_LongPrompt_CutsAtWordBoundary() =>
        Assert.Equal(
            Prefix + "implement-the-new-authentication-flow",
            WorkingBranchName.Generate(s_day, "Implement the new authentication flow for the mobile client app"));

    [Fact]
    public void Generate_WordEndingExactlyAtLimit_KeepsWholeWord()
    {
        var name = WorkingBranchName.Generate(s_day, "0123456789 0123456789 0123456789 0123456 tail");
        Assert.Equal(Prefix + "0123456789-0123456789-0123456789-0123456", name);
        Assert.Equal(40, name.Length - Prefix.Length);
    }

    [Fact]
    public void Generate_SlugOfExactlyMaxLength_IsKept() =>
        Assert.Equal(
            Prefix + "0123456789-0123456789-0123456789-0123456",
            WorkingBranchName.Generate(s_day, "0123456789 0123456789 0123456789 0123456"));

    [Fact]
    public void Generate_WordCrossingLimit_IsDropped() =>
        Assert.Equal(
            Prefix + "0123456789-0123456789-0123456789",
            WorkingBranchName.Generate(s_day, "0123456789 0123456789 0123456789 01234567"));

    [Fact]
    public void Generate_FirstWordLongerThanLimit_HardCuts() =>
        Assert.Equal(Prefix + new string('a', 40), WorkingBranchName.Generate(s_day, new string('A', 50) + " tail"));

    [Fact]
    public void Generate_ShortWordThenLongWord_KeepsShortWord() =>
        Assert.Equal(Prefix + "a", WorkingBranchName.Generate(s_day, "a " + new string('b', 45)));

    [Fact]
    public void Generate_HugePrompt_UsesOnlyFirstWords() =>
        Assert.Equal(
            Prefix + "lorem-ipsum-lorem-ipsum-lorem-ipsum",
            WorkingBranchName.Generate(s_day, string.Concat(Enumerable.Repeat("lorem ipsum ", 100_000))));

    [Theory]
    [InlineData(2025, 3, 7, "mogplex/run/2025-03-07/x")]
    [InlineData(1, 1, 1, "mogplex/run/0001-01-01/x")]
    [InlineData(9999, 12, 31, "mogplex/run/9999-12-31/x")]
    public void Generate_Day_FormatsAsIsoDate(int year, int month, int day, string expected) =>
        Assert.Equal(expected, WorkingBranchName.Generate(new DateOnly(year, month, day), "x"));

    [Fact]
    public void Generate_WithCollisionSuffix_AppendsSuffix() =>
        Assert.Equal(Prefix + "fix-bug-a1b2c3", WorkingBranchName.Generate(s_day, "Fix bug", "a1b2c3"));

    [Fact]
    public void Generate_LongPromptWithCollisionSuffix_AppendsAfterCutSlug() =>
        Assert.Equal(
            Prefix + "implement-the-new-authentication-flow-0a9f3e",
            WorkingBranchName.Generate(s_day, "Implement the new authentication flow for the mobile client app", "0a9f3e"));

    [Fact]
    public void Generate_EmptySlugWithCollisionSuffix_AppendsToRun() =>
        Assert.Equal(Prefix + "run-ffffff", WorkingBranchName.Generate(s_day, "???", "ffffff"));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("abcdefa")]
    [InlineData("ABCDEF")]
    [InlineData("abcdeg")]
    [InlineData("../x/y")]
    [InlineData("a b c ")]
    public void Generate_InvalidCollisionSuffix_Throws(string suffix) =>
        Assert.Throws<ArgumentException>("collisionSuffix", () => WorkingBranchName.Generate(s_day, "x", suffix));

    [Fact]
    public void Generate_NullPrompt_Throws() =>
        Assert.Throws<ArgumentNullException>("prompt", () => WorkingBranchName.Generate(s_day, null!));

    [Fact]
    public void Generate_SameInputs_ReturnsSameName() =>
        Assert.Equal(
            WorkingBranchName.Generate(s_day, "Refactor the parser", "abc123"),
            WorkingBranchName.Generate(s_day, "Refactor the parser", "abc123"));

    [Theory]
    [InlineData("A1B2C3D4E5F6", "a1b2c3")]
    [InlineData("abcdef", "abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "012345")]
    [InlineData("FfEeDdzz", "ffeedd")] // only the first six characters must be hex
    public void SuffixFromHash_HexHash_ReturnsFirstSixLowercase(string hash, string expected) =>
        Assert.Equal(expected, WorkingBranchName.SuffixFromHash(hash));

    [Theory]
    [InlineData("")]
    [InlineData("abc12")]
    [InlineData("xyz123")]
    [InlineData("abcde-")]
    [InlineData("ａｂｃｄｅｆ")] // full-width letters are not hex
    public void SuffixFromHash_InvalidHash_Throws(string hash) =>
        Assert.Throws<ArgumentException>("requestHashHex", () => WorkingBranchName.SuffixFromHash(hash));

    [Fact]
    public void SuffixFromHash_Null_Throws() =>
        Assert.Throws<ArgumentNullException>("requestHashHex", () => WorkingBranchName.SuffixFromHash(null!));

    [Fact]
    public void SuffixFromHash_Result_IsAcceptedByGenerate() =>
        Assert.Equal(
            Prefix + "x-deadbe",
            WorkingBranchName.Generate(s_day, "x", WorkingBranchName.SuffixFromHash("DEADBEEF00")));

    [Fact]
    public void Generate_RandomPrompts_AlwaysYieldsValidBranchName()
    {
        // Seeded so any failure is reproducible; the pools mix ASCII, punctuation, accented and CJK letters,
        // emoji (surrogate pairs), lone surrogates, controls and combining marks.
        var random = new Random(70312025);
        string[] pools =
        [
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            " \t\n\r!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            "éèêëàâäôöûüçñßÀÉÎØÅæœ",
            "日本語中文한국어русскийالعربية",
            "\ud83d\ude00\ud83d\ude80\ud83c\udf89\u2603\u00a9\u2122",
            "\ud800\udc00\udfff\u0000\u0001\u001f\u007f\u0085\u200b\u00a0\u2028\u0301\u0308\ufeff\ufffd",
            ".-/..-lock.lock@{",
        ];

        for (var n = 0; n < 3000; n++)
        {
            var length = n % 100 == 0 ? random.Next(500, 5000) : random.Next(0, 120);
            var builder = new StringBuilder(length);
            var weights = random.Next(pools.Length);
            for (var i = 0; i < length; i++)
            {
                // Each prompt favours one pool, so there are prompts that are mostly symbols, mostly CJK, etc.
                var pool = random.Next(2) == 0 ? pools[weights] : pools[random.Next(pools.Length)];
                builder.Append(pool[random.Next(pool.Length)]);
            }

            var prompt = builder.ToString();
            var suffix = random.Next(3) == 0 ? random.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture) : null;
            var name = WorkingBranchName.Generate(s_day, prompt, suffix);

            Assert.True(BranchName.IsValid(name), $"invalid branch name {name} for prompt #{n}");
            Assert.StartsWith(Prefix, name, StringComparison.Ordinal);

            var slug = name[Prefix.Length..];
            if (suffix is not null)
            {
                Assert.EndsWith("-" + suffix, slug, StringComparison.Ordinal);
                slug = slug[..^(suffix.Length + 1)];
            }

            Assert.InRange(slug.Length, 1, 40);
            Assert.All(slug, c => Assert.True(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-', $"bad char in {slug}"));
            Assert.False(slug.StartsWith('-') || slug.EndsWith('-') || slug.Contains("--", StringComparison.Ordinal), slug);
        }
    }
}
