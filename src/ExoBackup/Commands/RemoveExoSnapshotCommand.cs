using System.Management.Automation;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>Remove-ExoSnapshot: removes snapshots by id or by a keep-N retention policy that never breaks a chain.</summary>
[Cmdlet(VerbsCommon.Remove, "ExoSnapshot", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(Snapshot))]
public sealed class RemoveExoSnapshotCommand : SnapshotCmdlet
{
    const string ByPolicy = "Policy";

    // -Repository serves both the -Id set and the retention-policy set.
    [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = ByPolicy)]
    [ValidateNotNullOrEmpty]
    public override string? Repository { get; set; }

    [Parameter(ParameterSetName = ByPolicy)] [ValidateRange(0, 100000)] public int KeepLast { get; set; }
    [Parameter(ParameterSetName = ByPolicy)] [ValidateRange(0, 100000)] public int KeepDaily { get; set; }
    [Parameter(ParameterSetName = ByPolicy)] [ValidateRange(0, 100000)] public int KeepWeekly { get; set; }
    [Parameter(ParameterSetName = ByPolicy)] [ValidateRange(0, 100000)] public int KeepMonthly { get; set; }

    /// <summary>Also remove unfinished snapshots (.partial) older than this (a number is days), unless a live process still writes them.</summary>
    [Parameter(ParameterSetName = ByPolicy), Days] public TimeSpan? IncompleteOlderThan { get; set; }

    protected override void ProcessRecord()
    {
        var root = RepositoryPath;
        var repo = RunEngine((_, _) => SnapshotRepository.Open(root, false));
        var all = RunEngine((_, _) => repo.List(includeIncomplete: true));
        if (ParameterSetName == ByPolicy) RemoveByPolicy(repo, all);
        else RemoveOne(repo, all, SnapshotIdValue);
    }

    void RemoveOne(SnapshotRepository repo, IReadOnlyList<SnapshotEntry> all, string id)
    {
        var s = all.FirstOrDefault(x => x.Id == id);
        if (s is null)
            ThrowTerminatingError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.SnapshotNotFound", Engine.ErrorKind.ObjectNotFound,
                $"No snapshot '{id}' in '{repo.Root}'.", id, "List them with Get-ExoSnapshot -IncludeIncomplete.")));
        if (s!.Status == Engine.Repository.SnapshotStatus.InProgress)
        {
            var owner = RepositoryLock.Read(repo.Root);
            if (owner is not null && owner.Snapshot == id && !RepositoryLock.IsMine(owner) && !RepositoryLock.IsStale(owner))
                ThrowTerminatingError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.RepositoryLocked", Engine.ErrorKind.ResourceBusy,
                    $"Snapshot {id} is being written by {RepositoryLock.Describe(owner)}.", id, "Let that backup end first.")));
            if (ShouldProcess(id, "Remove the unfinished snapshot"))
            {
                RunEngine((_, _) => repo.RemovePartial(id));
                WriteObject(ExoBackup.Snapshot.From(repo.Root, s));
            }
            return;
        }
        var dependents = Retention.Dependents(all, id);
        if (dependents.Count > 0)
            ThrowTerminatingError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.SnapshotHasDependents", Engine.ErrorKind.InvalidOperation,
                $"Snapshot {id} cannot be removed: {string.Join(", ", dependents)} depend(s) on it.", id,
                "Remove the dependent snapshots first (newest first), or use a retention policy, which keeps chains whole.")));
        if (ShouldProcess(id, "Remove the snapshot"))
        {
            RunEngine((_, _) => repo.RemoveComplete(id));
            WriteObject(ExoBackup.Snapshot.From(repo.Root, s));
        }
    }

    void RemoveByPolicy(SnapshotRepository repo, IReadOnlyList<SnapshotEntry> all)
    {
        var policy = new RetentionPolicy { KeepLast = KeepLast, KeepDaily = KeepDaily, KeepWeekly = KeepWeekly, KeepMonthly = KeepMonthly };
        if (policy.IsEmpty && IncompleteOlderThan is null)
            ThrowTerminatingError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.NoRetentionPolicy", Engine.ErrorKind.InvalidArgument,
                "Give at least one of -KeepLast, -KeepDaily, -KeepWeekly, -KeepMonthly or -IncompleteOlderThan.", repo.Root,
                "For example: -KeepDaily 7 -KeepWeekly 4 -KeepMonthly 6.")));
        if (!policy.IsEmpty)
        {
            var (keep, remove) = Retention.Plan(all, policy);
            foreach (var k in keep) WriteVerbose($"Keeping {k.Key}: {string.Join(", ", k.Value)}.");
            foreach (var s in remove)
            {
                if (!ShouldProcess(s.Id, "Remove the snapshot (not kept by the policy)")) continue;
                RunEngine((_, _) => repo.RemoveComplete(s.Id));
                WriteObject(ExoBackup.Snapshot.From(repo.Root, s));
            }
        }
        if (IncompleteOlderThan is { } age)
        {
            var owner = RepositoryLock.Read(repo.Root);
            foreach (var s in all.Where(x => x.Status == Engine.Repository.SnapshotStatus.InProgress && x.Manifest.Created < DateTimeOffset.UtcNow - age))
            {
                var live = owner is not null && owner.Snapshot == s.Id && !RepositoryLock.IsStale(owner);
                if (live) { WriteVerbose($"Keeping {s.Id}: it is still being written."); continue; }
                if (!ShouldProcess(s.Id, "Remove the unfinished snapshot")) continue;
                RunEngine((_, _) => repo.RemovePartial(s.Id));
                WriteObject(ExoBackup.Snapshot.From(repo.Root, s));
            }
        }
    }
}
