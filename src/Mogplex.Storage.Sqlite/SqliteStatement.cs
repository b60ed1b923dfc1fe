namespace Mogplex.Storage.Sqlite;

/// <summary>A statement for <see cref="SqlitePreparedReads"/>: its SQL and its parameter names, in the order the caller fills them.</summary>
internal sealed class SqliteStatement(string sql, params string[] parameters)
{
    public string Sql { get; } = sql;

    public IReadOnlyList<string> Parameters { get; } = parameters;
}
