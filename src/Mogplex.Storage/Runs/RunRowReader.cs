using System.Data.Common;

namespace Mogplex.Storage;

/// <summary>
/// Reads <c>runs</c> rows selected as <see cref="Columns"/>, by position, into <see cref="RunRecord"/>s:
/// one hand-written mapping per provider instead of Dapper's per-row reflection, because
/// <c>GET /runs/{id}</c> reads a run on every request (docs/decisions.md, "Run rows read by hand").
/// What every provider stores the same way (text, integers) is read here; what differs (how a
/// flag, a cost and a time are stored) is the derived reader's. The ordinals below follow
/// <see cref="Columns"/>; the storage conformance test that round-trips a run with every field
/// set fails when a column is left out or misplaced.
/// </summary>
public abstract class RunRowReader
{
    /// <summary>Every column of <c>runs</c> that a <see cref="RunRecord"/> holds, in the order <see cref="Read"/> reads them.</summary>
    public const string Columns =
        "id, user_id, repo_id, ai_call_id, harness, status, base_branch, working_branch, create_branch, root_directory, " +
        "prompt, conversation_id, workspace_session_id, mode, sandbox_record_id, sandbox_id, error, runtime_run_id, " +
        "input_tokens, cached_input_tokens, output_tokens, cost_usd, commit_sha, created_at, updated_at, started_at, " +
        "finished_at, cancel_requested_at, lease_owner, lease_expires_at, permission_mode, permissions_json, model, " +
        "interactive, turns, awaiting_input, harness_session, start_commit";

    /// <summary>The run on the reader's current row.</summary>
    public RunRecord Read(DbDataReader row) => new()
    {
        Id = row.GetString(0),
        UserId = row.GetString(1),
        RepoId = row.GetString(2),
        AiCallId = row.GetString(3),
        Harness = row.GetString(4),
        Status = row.GetString(5),
        BaseBranch = row.GetString(6),
        WorkingBranch = row.GetString(7),
        CreateBranch = ReadFlag(row, 8),
        RootDirectory = row.GetString(9),
        Prompt = row.GetString(10),
        ConversationId = ReadText(row, 11),
        WorkspaceSessionId = ReadText(row, 12),
        Mode = ReadText(row, 13),
        SandboxRecordId = ReadText(row, 14),
        SandboxId = ReadText(row, 15),
        Error = ReadText(row, 16),
        RuntimeRunId = ReadText(row, 17),
        InputTokens = ReadCount(row, 18),
        CachedInputTokens = ReadCount(row, 19),
        OutputTokens = ReadCount(row, 20),
        CostUsd = row.IsDBNull(21) ? null : ReadCost(row, 21),
        Commit = ReadText(row, 22),
        CreatedAt = ReadTime(row, 23),
        UpdatedAt = ReadTime(row, 24),
        StartedAt = ReadOptionalTime(row, 25),
        FinishedAt = ReadOptionalTime(row, 26),
        CancelRequestedAt = ReadOptionalTime(row, 27),
        LeaseOwner = ReadText(row, 28),
        LeaseExpiresAt = ReadOptionalTime(row, 29),
        PermissionMode = row.GetString(30),
        PermissionsJson = ReadText(row, 31),
        Model = ReadText(row, 32),
        Interactive = ReadFlag(row, 33),
        Turns = row.GetInt32(34),
        AwaitingInput = ReadFlag(row, 35),
        HarnessSession = ReadText(row, 36),
        StartCommit = ReadText(row, 37),
    };

    /// <summary>The only row of the result, or null when there is none (throws on a second row, as Dapper's QuerySingleOrDefault does).</summary>
    public async Task<RunRecord?> ReadSingleOrDefaultAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var run = Read(reader);
        return await reader.ReadAsync(cancellationToken)
            ? throw new InvalidOperationException("Sequence contains more than one element")
            : run;
    }

    /// <summary>The only row of the result (throws when there is none or more than one).</summary>
    public async Task<RunRecord> ReadSingleAsync(DbDataReader reader, CancellationToken cancellationToken) =>
        await ReadSingleOrDefaultAsync(reader, cancellationToken) ?? throw new InvalidOperationException("Sequence contains no elements");

    /// <summary>Every row of the result, in order.</summary>
    public async Task<IReadOnlyList<RunRecord>> ReadAllAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var runs = new List<RunRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(Read(reader));
        }

        return runs;
    }

    /// <summary>A non-null boolean column.</summary>
    protected abstract bool ReadFlag(DbDataReader row, int ordinal);

    /// <summary>A non-null cost column.</summary>
    protected abstract decimal ReadCost(DbDataReader row, int ordinal);

    /// <summary>A non-null time column, as UTC.</summary>
    protected abstract DateTimeOffset ReadTime(DbDataReader row, int ordinal);

    private DateTimeOffset? ReadOptionalTime(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : ReadTime(row, ordinal);

    private static string? ReadText(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);

    private static long? ReadCount(DbDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetInt64(ordinal);
}
