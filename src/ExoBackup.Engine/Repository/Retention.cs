using System.Globalization;

namespace ExoBackup.Engine.Repository;

public sealed class RetentionPolicy
{
    public int KeepLast { get; init; }
    public int KeepDaily { get; init; }
    public int KeepWeekly { get; init; }
    public int KeepMonthly { get; init; }
    public bool IsEmpty => KeepLast <= 0 && KeepDaily <= 0 && KeepWeekly <= 0 && KeepMonthly <= 0;
}

/// <summary>
/// Keep-N-per-period retention (as restic's forget) that understands chains (as pgBackRest's
/// expire): a kept snapshot keeps every snapshot it depends on, and the newest complete full is
/// always kept, so retention never leaves a snapshot that cannot be restored.
/// </summary>
public static class Retention
{
    public static (Dictionary<string, List<string>> Keep, List<SnapshotEntry> Remove) Plan(IReadOnlyList<SnapshotEntry> snapshots, RetentionPolicy policy)
    {
        var complete = snapshots.Where(s => s.Status == SnapshotStatus.Complete).OrderByDescending(s => s.Id, StringComparer.Ordinal).ToList();
        var keep = new Dictionary<string, List<string>>();
        void Keep(SnapshotEntry s, string why)
        {
            if (!keep.TryGetValue(s.Id, out var reasons)) keep[s.Id] = reasons = [];
            reasons.Add(why);
        }
        foreach (var s in complete.Take(Math.Max(0, policy.KeepLast))) Keep(s, "last");
        Bucket(complete, policy.KeepDaily, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", Keep);
        Bucket(complete, policy.KeepWeekly, t => $"{ISOWeek.GetYear(t.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(t.UtcDateTime):00}", "weekly", Keep);
        Bucket(complete, policy.KeepMonthly, t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture), "monthly", Keep);
        if (complete.FirstOrDefault(s => s.Manifest.Type == SnapshotType.Full) is { } newestFull) Keep(newestFull, "newest full");

        var byId = complete.ToDictionary(s => s.Id);
        foreach (var id in keep.Keys.ToList())
        {
            var parent = byId.GetValueOrDefault(id)?.Manifest.Parent;
            var child = id;
            var seen = new HashSet<string>(StringComparer.Ordinal) { id };
            // seen: a looping chain (see SnapshotRepository.Chain) ends the walk instead of spinning.
            while (parent is not null && seen.Add(parent) && byId.TryGetValue(parent, out var p))
            {
                Keep(p, $"parent of {child}");
                child = parent;
                parent = p.Manifest.Parent;
            }
        }
        // Dependents first: a parent is never removed before what depends on it.
        var remove = complete.Where(s => !keep.ContainsKey(s.Id)).ToList();
        return (keep, remove);
    }

    static void Bucket(List<SnapshotEntry> newestFirst, int count, Func<DateTimeOffset, string> key, string why, Action<SnapshotEntry, string> keep)
    {
        if (count <= 0) return;
        var seen = new HashSet<string>();
        foreach (var s in newestFirst)
        {
            var k = key(SnapshotId.Time(s.Id));
            if (!seen.Add(k)) continue;
            keep(s, $"{why} {k}");
            if (seen.Count >= count) break;
        }
    }

    /// <summary>The complete snapshots whose chain runs through <paramref name="id"/>.</summary>
    public static List<string> Dependents(IReadOnlyList<SnapshotEntry> snapshots, string id)
    {
        var byParent = snapshots.Where(s => s.Manifest.Parent is not null).ToLookup(s => s.Manifest.Parent!);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { id };
        var queue = new Queue<string>([id]);
        while (queue.Count > 0)
            foreach (var child in byParent[queue.Dequeue()])
            {
                if (!seen.Add(child.Id)) continue; // a loop in the chain
                result.Add(child.Id);
                queue.Enqueue(child.Id);
            }
        return result;
    }
}
