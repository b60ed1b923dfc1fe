using System.Globalization;

namespace Mogplex.Storage.Sqlite.Stores;

/// <summary>A <c>runs</c> row as SQLite returns it (times in ms, flags as integers, cost as text) and its mapping to <see cref="RunRecord"/>.</summary>
internal sealed class SqliteRunRow : RunRowBase
{
    public long CreateBranch { get; set; }
    public string? CostUsd { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
    public long? StartedAt { get; set; }
    public long? FinishedAt { get; set; }
    public long? CancelRequestedAt { get; set; }
    public long? LeaseExpiresAt { get; set; }

    public RunRecord ToRecord() => ToRecord(
        CreateBranch != 0,
        CostUsd is null ? null : decimal.Parse(CostUsd, CultureInfo.InvariantCulture),
        SqliteTime.FromMs(CreatedAt),
        SqliteTime.FromMs(UpdatedAt),
        SqliteTime.FromMs(StartedAt),
        SqliteTime.FromMs(FinishedAt),
        SqliteTime.FromMs(CancelRequestedAt),
        SqliteTime.FromMs(LeaseExpiresAt));
}
