using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Mogplex.Storage.Sqlite.Stores;

/// <summary>A <c>runs</c> row as SQLite stores it: times in Unix milliseconds, flags as integers, the cost as text.</summary>
internal sealed class SqliteRunReader : RunRowReader
{
    public const string Select = $"SELECT {Columns} FROM runs";

    public static readonly SqliteRunReader Instance = new();

    private SqliteRunReader()
    {
    }

    /// <summary>The run <paramref name="sql"/> (a <see cref="Select"/>) finds, or null; Dapper binds the parameters.</summary>
    public static async Task<RunRecord?> QuerySingleOrDefaultAsync(SqliteConnection connection, string sql, object parameters, DbTransaction? transaction)
    {
        await using var reader = await connection.ExecuteReaderAsync(sql, parameters, transaction);
        return await Instance.ReadSingleOrDefaultAsync(reader, CancellationToken.None);
    }

    /// <summary>The run <paramref name="sql"/> finds (throws when none).</summary>
    public static async Task<RunRecord> QuerySingleAsync(SqliteConnection connection, string sql, object parameters, DbTransaction? transaction)
    {
        await using var reader = await connection.ExecuteReaderAsync(sql, parameters, transaction);
        return await Instance.ReadSingleAsync(reader, CancellationToken.None);
    }

    /// <summary>Every run <paramref name="sql"/> finds, in its order.</summary>
    public static async Task<IReadOnlyList<RunRecord>> QueryAsync(SqliteConnection connection, string sql, object parameters)
    {
        await using var reader = await connection.ExecuteReaderAsync(sql, parameters);
        return await Instance.ReadAllAsync(reader, CancellationToken.None);
    }

    protected override bool ReadFlag(DbDataReader row, int ordinal) => row.GetInt64(ordinal) != 0;

    protected override decimal ReadCost(DbDataReader row, int ordinal) => decimal.Parse(row.GetString(ordinal), CultureInfo.InvariantCulture);

    protected override DateTimeOffset ReadTime(DbDataReader row, int ordinal) => SqliteTime.FromMs(row.GetInt64(ordinal));
}
