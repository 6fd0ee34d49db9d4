using System.Text.RegularExpressions;

namespace ExoBackup.Engine.Repository;

/// <summary>Snapshot ids sort by time and say their type: 20261126T021500Z-full, -diff, -incr.</summary>
public static partial class SnapshotId
{
    [GeneratedRegex(@"^(\d{8}T\d{6}Z)-(full|diff|incr)$")]
    private static partial Regex Pattern();

    public static bool IsValid(string id) => Pattern().IsMatch(id);

    public static string Suffix(SnapshotType t) => t switch
    {
        SnapshotType.Full => "full",
        SnapshotType.Differential => "diff",
        _ => "incr",
    };

    public static DateTimeOffset Time(string id) =>
        Timestamps.ParseCompact(Pattern().Match(id).Groups[1].Value);

    /// <summary>A new id later than every existing one, so ids stay unique and in order even within one second.</summary>
    public static string New(SnapshotType type, DateTimeOffset now, IEnumerable<string> existing)
    {
        var t = new DateTimeOffset(now.UtcDateTime.Ticks - now.UtcDateTime.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        foreach (var id in existing.Where(IsValid))
        {
            var other = Time(id);
            if (other >= t) t = other.AddSeconds(1);
        }
        return Timestamps.Compact(t) + "-" + Suffix(type);
    }
}
