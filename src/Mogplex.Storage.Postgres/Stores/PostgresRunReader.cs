using System.Data.Common;
using Dapper;
using Npgsql;

namespace Mogplex.Storage.Postgres.Stores;

/// <summary>A <c>runs</c> row as PostgreSQL returns it: timestamptz (read as UTC), boolean, numeric.</summary>
internal sealed class PostgresRunReader : RunRowReader
{
    public const string Select = $"SELECT {Columns} FROM runs";

    public static readonly PostgresRunReader Instance = new();

    private PostgresRunReader()
    {
    }

    /// <summary>The run <paramref name="command"/> (a <see cref="Select"/> or <c>RETURNING</c> <see cref="RunRowReader.Columns"/>) finds, or null; Dapper binds the parameters.</summary>
    public static async Task<RunRecord?> QuerySingleOrDefaultAsync(NpgsqlConnection connection, CommandDefinition command)
    {
        await using var reader = await connection.ExecuteReaderAsync(command);
        return await Instance.ReadSingleOrDefaultAsync(reader, command.CancellationToken);
    }

    /// <summary>The run <paramref name="command"/> finds (throws when none).</summary>
    public static async Task<RunRecord> QuerySingleAsync(NpgsqlConnection connection, CommandDefinition command)
    {
        await using var reader = await connection.ExecuteReaderAsync(command);
        return await Instance.ReadSingleAsync(reader, command.CancellationToken);
    }

    /// <summary>Every run <paramref name="command"/> finds, in its order.</summary>
    public static async Task<IReadOnlyList<RunRecord>> QueryAsync(NpgsqlConnection connection, CommandDefinition command)
    {
        await using var reader = await connection.ExecuteReaderAsync(command);
        return await Instance.ReadAllAsync(reader, command.CancellationToken);
    }

    protected override bool ReadFlag(DbDataReader row, int ordinal) => row.GetBoolean(ordinal);

    protected override decimal ReadCost(DbDataReader row, int ordinal) => row.GetDecimal(ordinal);

    protected override DateTimeOffset ReadTime(DbDataReader row, int ordinal) => PostgresTime.FromDb(row.GetFieldValue<DateTime>(ordinal));
}
