namespace Mogplex.Storage.Postgres.Stores;

/// <summary>A <c>runs</c> row as PostgreSQL returns it (timestamptz, boolean, numeric) and its mapping to <see cref="RunRecord"/>.</summary>
internal sealed class PostgresRunRow : RunRowBase
{
    public const string Select = $"SELECT {Columns} FROM runs";

    public bool CreateBranch { get; set; }
    public decimal? CostUsd { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public DateTime? CancelRequestedAt { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }

    public RunRecord ToRecord() => ToRecord(
        CreateBranch,
        CostUsd,
        PostgresTime.FromDb(CreatedAt),
        PostgresTime.FromDb(UpdatedAt),
        PostgresTime.FromDb(StartedAt),
        PostgresTime.FromDb(FinishedAt),
        PostgresTime.FromDb(CancelRequestedAt),
        PostgresTime.FromDb(LeaseExpiresAt));
}
