namespace ExoBackup.Engine.Repository;

/// <summary>A snapshot to remove, and what removing it means (shown by -WhatIf and -Confirm).</summary>
public sealed record PlannedRemoval(SnapshotEntry Snapshot, string Action);

/// <summary>What a retention run removes, and why it keeps the rest.</summary>
public sealed record RemovalPlan(IReadOnlyDictionary<string, List<string>> Kept, IReadOnlyList<string> StillWritten, IReadOnlyList<PlannedRemoval> Remove);

/// <summary>
/// Removing snapshots without breaking what remains: a snapshot others depend on stays, an unfinished
/// one that a live process still writes stays, and retention keeps chains whole (<see cref="Retention"/>).
/// </summary>
public static class SnapshotRemoval
{
    /// <summary>The removal of one snapshot by id, or the error that says why it cannot go.</summary>
    public static PlannedRemoval One(SnapshotRepository repo, string id)
    {
        var all = repo.List(includeIncomplete: true);
        var s = all.FirstOrDefault(x => x.Id == id)
            ?? throw Errors.SnapshotNotFound(id, repo.Root);
        if (s.Status == SnapshotStatus.InProgress)
        {
            if (RepositoryLock.Read(repo.Storage) is { } owner && owner.Snapshot == id && !RepositoryLock.IsMine(owner) && !RepositoryLock.IsStale(owner))
                throw Errors.RepositoryLockedSnapshot(id, RepositoryLock.Describe(owner));
            return new PlannedRemoval(s, "Remove the unfinished snapshot");
        }
        var dependents = Retention.Dependents(all, id);
        if (dependents.Count > 0)
            throw Errors.SnapshotHasDependents(id, dependents);
        return new PlannedRemoval(s, "Remove the snapshot");
    }

    /// <summary>What a keep-N policy, and an age for unfinished snapshots, remove: dependents before their parents.</summary>
    public static RemovalPlan ByPolicy(SnapshotRepository repo, RetentionPolicy policy, TimeSpan? incompleteOlderThan)
    {
        if (policy.IsEmpty && incompleteOlderThan is null)
            throw Errors.NoRetentionPolicy(repo.Root);
        var all = repo.List(includeIncomplete: true);
        var removals = new List<PlannedRemoval>();
        var kept = new Dictionary<string, List<string>>();
        if (!policy.IsEmpty)
        {
            (kept, var remove) = Retention.Plan(all, policy);
            removals.AddRange(remove.Select(s => new PlannedRemoval(s, "Remove the snapshot (not kept by the policy)")));
        }
        var stillWritten = new List<string>();
        if (incompleteOlderThan is { } age)
        {
            var owner = RepositoryLock.Read(repo.Storage);
            foreach (var s in all.Where(x => x.Status == SnapshotStatus.InProgress && x.Manifest.Created < DateTimeOffset.UtcNow - age))
            {
                if (owner is not null && owner.Snapshot == s.Id && !RepositoryLock.IsStale(owner)) stillWritten.Add(s.Id);
                else removals.Add(new PlannedRemoval(s, "Remove the unfinished snapshot"));
            }
        }
        return new RemovalPlan(kept, stillWritten, removals);
    }

    public static void Execute(SnapshotRepository repo, PlannedRemoval removal)
    {
        if (removal.Snapshot.Status == SnapshotStatus.InProgress) repo.RemovePartial(removal.Snapshot.Id);
        else repo.RemoveComplete(removal.Snapshot.Id);
    }
}
