namespace Mogplex.Storage.Postgres;

/// <summary>
/// Times are timestamptz, written in UTC at millisecond precision (what the SQLite provider keeps),
/// and read back as UTC <see cref="DateTimeOffset"/>s.
/// </summary>
internal static class PostgresTime
{
    public static DateTimeOffset ToDb(DateTimeOffset value) => DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());

    public static DateTimeOffset? ToDb(DateTimeOffset? value) => value is { } v ? ToDb(v) : null;

    public static long ToMs(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromDb(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero);

    public static DateTimeOffset? FromDb(DateTime? value) => value is { } v ? FromDb(v) : null;
}
