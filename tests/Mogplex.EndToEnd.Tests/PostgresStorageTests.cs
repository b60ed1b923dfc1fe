using System.Net;
using System.Text.RegularExpressions;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.Postgres;
using Npgsql;

[assembly: AssemblyFixture(typeof(PostgresTestCluster))]

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// The published <c>mogplexd</c> on PostgreSQL: operator commands and two servers (two nodes,
/// each with its own data folder) share one database; the connection string, password included,
/// never shows in output or logs.
/// </summary>
public sealed partial class PostgresStorageTests(PostgresTestCluster cluster)
{
    [Fact]
    public async Task TwoServersAndOperatorCommands_OneDatabase_ShareTokensAndRevocations()
    {
        var (connectionString, schema) = await cluster.CreateSchemaAsync(TestContext.Current.CancellationToken);
        var password = new NpgsqlConnectionStringBuilder(connectionString).Password!;
        try
        {
            await using var nodeA = new MogplexdProcess();
            await using var nodeB = new MogplexdProcess();
            var created = await nodeA.RunAsync("token", "create", "--name", "shared", "--storage", "postgres", "--postgres", connectionString);
            Assert.True(created.ExitCode == 0, created.ToString());
            var token = created.StdOut.Trim();
            var tokenId = CreatedTokenId().Match(created.StdErr).Groups[1].Value;

            // Node A takes the flags, node B the configuration (environment); both are PostgreSQL nodes.
            var serverA = await nodeA.StartServerAsync(null, "--storage", "postgres", "--postgres", connectionString);
            var serverB = await nodeB.StartServerAsync(new Dictionary<string, string?>
            {
                ["MOGPLEXD_Storage__Provider"] = "postgres",
                ["MOGPLEXD_Storage__Postgres"] = connectionString,
            });
            using var clientA = serverA.CreateClient(token);
            using var clientB = serverB.CreateClient(token);
            Assert.Equal(HttpStatusCode.OK, (await clientA.GetAsync("/api/v1/mogplex/repos", TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await clientB.GetAsync("/api/v1/mogplex/repos", TestContext.Current.CancellationToken)).StatusCode);

            // Revoked through node B's data folder (the same database): refused by both servers at once.
            var revoked = await nodeB.RunAsync(["token", "revoke", tokenId], new Dictionary<string, string?> { ["MOGPLEXD_Storage__Postgres"] = connectionString, ["MOGPLEXD_Storage__Provider"] = "postgres" });
            Assert.True(revoked.ExitCode == 0, revoked.ToString());
            Assert.Equal(HttpStatusCode.Unauthorized, (await clientA.GetAsync("/api/v1/mogplex/repos", TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await clientB.GetAsync("/api/v1/mogplex/repos", TestContext.Current.CancellationToken)).StatusCode);

            Assert.Contains("storage postgres 127.0.0.1:", serverA.StdErr, StringComparison.Ordinal);
            foreach (var output in new[] { created.StdOut, created.StdErr, revoked.StdOut, revoked.StdErr, serverA.StdErr, serverA.StdOut, serverB.StdErr, serverB.StdOut })
            {
                Assert.DoesNotContain(password, output, StringComparison.Ordinal);
            }
        }
        finally
        {
            cluster.DropSchema(schema);
        }
    }

    [Fact]
    public async Task TokenCreate_PostgresWrongPassword_ExitsSixtyNineWithoutThePassword()
    {
        var builder = new NpgsqlConnectionStringBuilder(await cluster.GetConnectionStringAsync()) { Password = "not-the-Password-9931" };
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "create", "--name", "ci", "--postgres", builder.ConnectionString);

        Assert.True(result.ExitCode == 69, result.ToString());
        Assert.Equal("", result.StdOut);
        Assert.StartsWith("error: The database is unavailable: ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("password authentication failed", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-Password-9931", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PostgresUnreachable_ExitsSixtyNineWithoutThePassword()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync(["serve", "--postgres", "Host=127.0.0.1;Port=1;Username=mogplex;Password=hunter2-Secret;Database=mogplex"], env: null);

        Assert.True(result.ExitCode == 69, result.ToString());
        Assert.Equal("", result.StdOut);
        var lines = result.StdErr.TrimEnd('\n').Split('\n');
        Assert.StartsWith("error: The database is unavailable: ", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-Secret", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenList_StoragePostgresWithoutConnectionString_ExitsTwoWithMessage()
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("token", "list", "--storage", "postgres");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.StdOut);
        Assert.Equal(
            "error: Storage:Provider is postgres but no connection string is set: pass --postgres \"Host=...;Username=...;Password=...;Database=...\" or set Storage:Postgres\n",
            result.StdErr);
    }

    [GeneratedRegex("^created token ([0-9a-f-]{36}) ")]
    private static partial Regex CreatedTokenId();
}
