using System.Globalization;

namespace ExoBackup.Engine;

/// <summary>Human units for messages; objects keep plain numbers.</summary>
public static class Units
{
    public static string Bytes(long b) => b switch
    {
        >= 1L << 40 => Scaled(b, 40, "TiB"),
        >= 1L << 30 => Scaled(b, 30, "GiB"),
        >= 1L << 20 => Scaled(b, 20, "MiB"),
        >= 1L << 10 => Scaled(b, 10, "KiB"),
        _ => $"{b} B",
    };

    static string Scaled(long b, int shift, string unit) => (b / (double)(1L << shift)).ToString("0.0", CultureInfo.InvariantCulture) + " " + unit;
}

/// <summary>
/// The compact UTC time that names snapshots and what a restore sets aside (20261126T021500Z), always
/// in the invariant culture: the current one could write another calendar's year (2569 under a Thai one).
/// </summary>
public static class Timestamps
{
    public const string CompactFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static string Compact(DateTimeOffset t) => t.UtcDateTime.ToString(CompactFormat, CultureInfo.InvariantCulture);

    public static string NowCompact() => Compact(DateTimeOffset.UtcNow);

    public static DateTimeOffset ParseCompact(string s) =>
        DateTimeOffset.ParseExact(s, CompactFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
