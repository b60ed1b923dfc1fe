using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Mogplex.Contracts;
using Mogplex.Contracts.Json;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary><c>mogplexd token</c> and <c>user</c> against the published binary, and the tokens' effect on a running server.</summary>
public sealed partial class TokenCommandTests
{
    [Fact]
    public async Task TokenCreate_Default_PrintsOneTokenLineAndStoresOnlyItsHash()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "create", "--name", "laptop");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(TokenLine(), result.StdOut);
        var token = result.StdOut.TrimEnd('\n');
        Assert.Matches(@"^created token [0-9a-f-]{36} 'laptop' for admin \(scopes read,write, expires -\); it is shown only this once\n$", result.StdErr);
        Assert.DoesNotContain(token, result.StdErr, StringComparison.Ordinal);
        AssertNoFileContains(mogplexd.DataDir, token);

        var list = await mogplexd.RunAsync("token", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.DoesNotContain(token, list.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(token[4..], list.StdOut, StringComparison.Ordinal);
        var rows = list.StdOut.TrimEnd('\n').Split('\n');
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("ID ", rows[0], StringComparison.Ordinal);
        Assert.Contains($"  laptop  admin  {token[..8]}…  read,write  ", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenCreate_ExpiresInDaysZero_ExitsOneWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "create", "--name", "ci", "--expires-in-days", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal("error: --expires-in-days must be between 1 and 3650\n", result.StdErr);
    }

    [Fact]
    public async Task TokenCreate_BogusScopes_ExitsOneWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "create", "--name", "ci", "--scopes", "bogus");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal("error: --scopes must be a non-empty list of: read, write\n", result.StdErr);
    }

    [Fact]
    public async Task TokenCreate_UnknownUser_ExitsOneWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "create", "--name", "ci", "--user", "nobody");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal("error: user 'nobody' does not exist (add it with: mogplexd user add nobody)\n", result.StdErr);
        var list = await mogplexd.RunCheckedAsync("token", "list");
        Assert.Single(list.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task TokenCreate_ForAddedUser_ListedOnlyUnderThatUser()
    {
        await using var mogplexd = new MogplexdProcess();

        var userId = (await mogplexd.RunCheckedAsync("user", "add", "alice")).Trim();
        Assert.True(Guid.TryParse(userId, out _), userId);
        var users = await mogplexd.RunCheckedAsync("user", "list");
        Assert.Contains(users.Split('\n'), line => line.StartsWith(userId + "  alice  ", StringComparison.Ordinal));
        Assert.Contains(users.Split('\n'), line => line.Contains("  admin  ", StringComparison.Ordinal));

        var token = (await mogplexd.RunCheckedAsync("token", "create", "--name", "alice-ci", "--scopes", "read", "--user", "alice")).Trim();
        Assert.Matches(TokenLine(), token + "\n");

        var alice = await mogplexd.RunCheckedAsync("token", "list", "--user", "alice");
        Assert.Contains($"  alice-ci  alice  {token[..8]}…  read  ", alice, StringComparison.Ordinal);
        var admin = await mogplexd.RunCheckedAsync("token", "list", "--user", "admin");
        Assert.DoesNotContain("alice-ci", admin, StringComparison.Ordinal);

        var duplicate = await mogplexd.RunAsync("user", "add", "alice");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Equal("error: user 'alice' already exists\n", duplicate.StdErr);
    }

    [Fact]
    public async Task TokenRevoke_WhileServerRuns_NextRequestIsUnauthorized()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var server = await mogplexd.StartServerAsync();

        var before = await Curl.GetAsync(server, Transport.Tcp, Curl.ApiBase + "/repos", token);
        Assert.Equal(200, before.Status);

        var list = await mogplexd.RunCheckedAsync("token", "list");
        var tokenId = list.Split('\n')[1].Split(' ')[0];
        var revoke = await mogplexd.RunAsync("token", "revoke", tokenId);
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Equal($"revoked token {tokenId}\n", revoke.StdErr);

        foreach (var transport in new[] { Transport.Tcp, Transport.UnixSocket })
        {
            var after = await Curl.GetAsync(server, transport, Curl.ApiBase + "/repos", token);
            Assert.Equal(401, after.Status);
            var error = after.Json(MogplexJsonContext.Default.ApiErrorEnvelope);
            Assert.False(error.Ok);
            Assert.Equal(new ApiError(ErrorCodes.Unauthorized, "Unauthorized"), error.Error);
        }

        using var client = server.CreateClient(token);
        using var response = await client.GetAsync(new Uri(Curl.ApiBase + "/repos", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);

        var revokedList = await mogplexd.RunCheckedAsync("token", "list");
        Assert.Matches(@"  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", revokedList.Split('\n')[1]);

        var unknown = await mogplexd.RunAsync("token", "revoke", tokenId.Replace(tokenId[^4..], "ffff", StringComparison.Ordinal));
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("error: token ", unknown.StdErr, StringComparison.Ordinal);
        Assert.EndsWith(" not found\n", unknown.StdErr, StringComparison.Ordinal);

        Assert.Equal(0, await server.StopAsync());
    }

    /// <summary>Fails when any file under <paramref name="dir"/> (database, WAL, logs) holds the token's bytes.</summary>
    internal static void AssertNoFileContains(string dir, string token)
    {
        var needles = new[] { Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(token[4..]), Encoding.Unicode.GetBytes(token[4..]) };
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".sock", StringComparison.Ordinal)).ToList();
        Assert.Contains(files, f => Path.GetFileName(f) == "mogplex.db");
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var needle in needles)
            {
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} contains the plaintext token");
            }
        }
    }

    [GeneratedRegex("^mog_[0-9A-Za-z]{32}\n$")]
    private static partial Regex TokenLine();
}
