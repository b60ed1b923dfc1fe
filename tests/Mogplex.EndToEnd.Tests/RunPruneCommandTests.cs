using System.Globalization;
using System.Net;
using Microsoft.Data.Sqlite;
using Mogplex.Contracts.Runs;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// <c>mogplexd runs prune</c> against the published binary. The server's clock cannot be moved,
/// so "forty days ago" is written into the database: the times of the runs and sandboxes meant to
/// be old are moved back, nothing else.
/// </summary>
public sealed class RunPruneCommandTests
{
    private static readonly TimeSpan s_fortyDays = TimeSpan.FromDays(40);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunsPrune_WhileServing_OldFinishedRunLosesItsEventsActiveAndRecentRunsKeepTheirs()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "prune");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        using var client = server.CreateClient(token);
        var old = await FinishedRunAsync(client, repoId, "echo old", "prune/old");
        var recent = await FinishedRunAsync(client, repoId, "echo recent", "prune/recent");
        var active = await ExecRuns.StartAsync(client, repoId, "echo active\nsleep 300", "prune/active");
        await ExecRuns.WaitForEventAsync(client, active, "active");
        var activeRun = await ExecRuns.GetAsync(client, active);
        // The old run's sandbox was stopped (the server removed its checkout); the active run's sandbox is old but in use.
        using (var stop = await client.PostAsync(new Uri($"{Curl.ApiBase}/sandboxes/{old.SandboxRecordId}/stop", UriKind.Relative), null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        }

        await MoveBackAsync(mogplexd, runs: [old.RunId, active], sandboxes: [old.SandboxRecordId!, activeRun.SandboxRecordId!]);
        var oldEvents = (await ExecRuns.EventsAsync(client, old.RunId)).Count;
        var recentEvents = await ExecRuns.EventsAsync(client, recent.RunId);
        var activeEvents = await ExecRuns.EventsAsync(client, active);

        var result = await mogplexd.RunAsync("runs", "prune", "--older-than", "30d");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.StdOut.TrimEnd('\n').Split('\n');
        Assert.Equal(3, rows.Length);
        Assert.Matches(@"^KIND +ID +STATUS +SINCE +REMOVED$", rows[0]);
        Assert.Matches($@"^run +{old.RunId} +success +\S+Z +{oldEvents} events$", rows[1]);
        Assert.Matches($@"^sandbox +{old.SandboxRecordId} +stopped +\S+Z +record$", rows[2]);
        Assert.Matches($@"^pruned {oldEvents} events of 1 run and 1 sandbox older than 30d \(before \S+Z\)\n$", result.StdErr);

        Assert.Empty(await ExecRuns.EventsAsync(client, old.RunId));
        var kept = await ExecRuns.GetAsync(client, old.RunId);
        Assert.Equal((RunStatuses.Success, old.Commit), (kept.Status, kept.Commit));
        Assert.Equal(recentEvents.Select(e => (e.Id, e.Message)), (await ExecRuns.EventsAsync(client, recent.RunId)).Select(e => (e.Id, e.Message)));
        Assert.Contains(recentEvents, e => e.Message == "recent");
        Assert.Equal(activeEvents.Select(e => e.Id), (await ExecRuns.EventsAsync(client, active)).Take(activeEvents.Count).Select(e => e.Id));
        Assert.Equal(RunStatuses.Streaming, (await ExecRuns.GetAsync(client, active)).Status);
        Assert.False(await SandboxRecordExistsAsync(mogplexd, old.SandboxRecordId!));
        Assert.True(await SandboxRecordExistsAsync(mogplexd, activeRun.SandboxRecordId!));
        Assert.True(Directory.Exists(Path.Combine(mogplexd.DataDir, "sandboxes", activeRun.SandboxRecordId!)));
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task RunsPrune_StoppedSandboxStillOnDisk_RecordAndFolderRemovedThenNothingLeft()
    {
        await using var mogplexd = new MogplexdProcess();
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "leftover");
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        var server = await mogplexd.StartServerAsync(ExecRuns.Unlimited, "--dev");
        RunDetail old;
        using (var client = server.CreateClient(token))
        {
            old = await FinishedRunAsync(client, repoId, "echo old > old.txt", "prune/leftover");
        }

        Assert.Equal(0, await server.StopAsync());
        var folder = Path.Combine(mogplexd.DataDir, "sandboxes", old.SandboxRecordId!);
        Assert.True(File.Exists(Path.Combine(folder, "repo", "old.txt")));
        // Stopped through another node sharing the database: removing the checkout was this node's job.
        await ExecuteAsync(mogplexd, "UPDATE sandboxes SET status = 'stopped' WHERE id = $id", old.SandboxRecordId!);
        await MoveBackAsync(mogplexd, runs: [old.RunId], sandboxes: [old.SandboxRecordId!]);

        var result = await mogplexd.RunAsync("runs", "prune", "--older-than", "720h");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.StdOut.TrimEnd('\n').Split('\n');
        Assert.Equal(3, rows.Length);
        Assert.Matches($@"^run +{old.RunId} +success ", rows[1]);
        Assert.Matches($@"^sandbox +{old.SandboxRecordId} +stopped +\S+Z +record, folder$", rows[2]);
        Assert.False(Directory.Exists(folder));
        Assert.False(await SandboxRecordExistsAsync(mogplexd, old.SandboxRecordId!));
        Assert.Equal(0L, await ScalarAsync(mogplexd, "SELECT count(*) FROM sandbox_lifecycle_events WHERE sandbox_id = $id", old.SandboxRecordId!));
        Assert.Equal(0L, await ScalarAsync(mogplexd, "SELECT count(*) FROM run_events WHERE run_id = $id", old.RunId));
        Assert.Equal(1L, await ScalarAsync(mogplexd, "SELECT count(*) FROM runs WHERE id = $id AND status = 'success'", old.RunId));

        var again = await mogplexd.RunAsync("runs", "prune", "--older-than", "720h");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("", again.StdOut);
        Assert.Matches(@"^pruned 0 events of 0 runs and 0 sandboxes older than 720h \(before \S+Z\)\n$", again.StdErr);
    }

    [Theory]
    [InlineData("30")]
    [InlineData("30x")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("1000000w")]
    public async Task RunsPrune_BadAge_ExitsOneWithMessageAndRemovesNothing(string age)
    {
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync("runs", "prune", $"--older-than={age}");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal($"error: --older-than must be a positive whole number followed by s, m, h, d or w (e.g. 30d, 12h), not '{age}'\n", result.StdErr);
    }

    private static async Task<RunDetail> FinishedRunAsync(HttpClient client, string repoId, string script, string branch)
    {
        var run = await ExecRuns.WaitTerminalAsync(client, await ExecRuns.StartAsync(client, repoId, script, branch));
        Assert.True(run.Status == RunStatuses.Success, $"{run.Status}: {run.Error}");
        return run;
    }

    /// <summary>Moves the stored times of these runs and sandboxes forty days back.</summary>
    private static async Task MoveBackAsync(MogplexdProcess mogplexd, IReadOnlyList<string> runs, IReadOnlyList<string> sandboxes)
    {
        foreach (var run in runs)
        {
            await ExecuteAsync(
                mogplexd,
                "UPDATE runs SET created_at = created_at - $ms, updated_at = updated_at - $ms, started_at = started_at - $ms, finished_at = finished_at - $ms WHERE id = $id",
                run);
        }

        foreach (var sandbox in sandboxes)
        {
            await ExecuteAsync(mogplexd, "UPDATE sandboxes SET created_at = created_at - $ms, last_active_at = last_active_at - $ms WHERE id = $id", sandbox);
        }
    }

    private static async Task<bool> SandboxRecordExistsAsync(MogplexdProcess mogplexd, string id) =>
        await ScalarAsync(mogplexd, "SELECT count(*) FROM sandboxes WHERE id = $id", id) == 1;

    private static async Task ExecuteAsync(MogplexdProcess mogplexd, string sql, string id)
    {
        await using var db = await OpenAsync(mogplexd);
        await using var command = Command(db, sql, id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }

    private static async Task<long> ScalarAsync(MogplexdProcess mogplexd, string sql, string id)
    {
        await using var db = await OpenAsync(mogplexd);
        await using var command = Command(db, sql, id);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static async Task<SqliteConnection> OpenAsync(MogplexdProcess mogplexd)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = mogplexd.DatabasePath, DefaultTimeout = 30, Pooling = false }.ToString());
        await db.OpenAsync(Ct);
        return db;
    }

    private static SqliteCommand Command(SqliteConnection db, string sql, string id)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$ms", (long)s_fortyDays.TotalMilliseconds);
        return command;
    }
}
