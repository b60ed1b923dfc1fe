using Mogplex.Server.Auth;

namespace Mogplex.Server.Tests.Auth;

public sealed class AccessTokensTests
{
    [Fact]
    public void Generate_Always_IsMogPrefixPlus32Base62()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var token = AccessTokens.Generate();
            Assert.Matches("^mog_[0-9A-Za-z]{32}$", token);
            Assert.True(AccessTokens.IsWellFormed(token));
            Assert.True(seen.Add(token));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("mog_")]
    [InlineData("mog_abc")]
    [InlineData("MOG_0123456789abcdefghijABCDEFGHIJkl")]
    [InlineData("mog_0123456789abcdefghijABCDEFGHIJk")]
    [InlineData("mog_0123456789abcdefghijABCDEFGHIJklm")]
    [InlineData("mog_0123456789abcdefghijABCDEFGHI-kl")]
    [InlineData("mog_0123456789abcdefghijABCDEFGHIJ\u00e9l")]
    [InlineData("ghp_0123456789abcdefghijABCDEFGHIJkl")]
    public void IsWellFormed_WrongShape_False(string? token) => Assert.False(AccessTokens.IsWellFormed(token));

    [Fact]
    public void Hash_IsLowercaseSha256HexOfWholeToken()
    {
        // SHA-256("mog_0123456789abcdefghijABCDEFGHIJkl"), computed independently with sha256sum.
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("mog_0123456789abcdefghijABCDEFGHIJkl"u8)),
            AccessTokens.Hash("mog_0123456789abcdefghijABCDEFGHIJkl"));
        Assert.Equal(64, AccessTokens.Hash(AccessTokens.Generate()).Length);
        Assert.NotEqual(AccessTokens.Hash("mog_0123456789abcdefghijABCDEFGHIJkl"), AccessTokens.Hash("mog_0123456789abcdefghijABCDEFGHIJkm"));
    }

    [Fact]
    public void DisplayPrefix_RevealsOnlyFourRandomCharacters()
    {
        Assert.Equal("mog_0123", AccessTokens.DisplayPrefix("mog_0123456789abcdefghijABCDEFGHIJkl"));
    }

    [Theory]
    [InlineData("read", new[] { "read" })]
    [InlineData("write", new[] { "write" })]
    [InlineData("read,write", new[] { "read", "write" })]
    [InlineData(" write , read ,read", new[] { "write", "read" })]
    public void ScopesParse_Valid_ReturnsDistinctScopes(string text, string[] expected) => Assert.Equal(expected, Scopes.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("admin")]
    [InlineData("read,admin")]
    [InlineData("READ")]
    public void ScopesParse_Invalid_ReturnsNull(string? text) => Assert.Null(Scopes.Parse(text));

    [Theory]
    [InlineData("GET", "read")]
    [InlineData("HEAD", "read")]
    [InlineData("POST", "write")]
    [InlineData("DELETE", "write")]
    [InlineData("PUT", "write")]
    public void ScopesRequiredFor_Method_ReadOnlyForGets(string method, string scope) => Assert.Equal(scope, Scopes.RequiredFor(method));
}
