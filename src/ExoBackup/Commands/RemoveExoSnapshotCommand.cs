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

    /// <summary>Write each removed snapshot (as it was before its removal); nothing is written without it.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var root = RepositoryPath;
        var repo = RunEngine((_, _) => SnapshotRepository.Open(root, false));
        if (ParameterSetName == ByPolicy)
        {
            var policy = new RetentionPolicy { KeepLast = KeepLast, KeepDaily = KeepDaily, KeepWeekly = KeepWeekly, KeepMonthly = KeepMonthly };
            var plan = RunEngine((_, _) => SnapshotRemoval.ByPolicy(repo, policy, IncompleteOlderThan));
            foreach (var k in plan.Kept) WriteVerbose($"Keeping {k.Key}: {string.Join(", ", k.Value)}.");
            foreach (var id in plan.StillWritten) WriteVerbose($"Keeping {id}: it is still being written.");
            foreach (var removal in plan.Remove) Remove(repo, removal);
        }
        else
        {
            var id = SnapshotIdValue;
            Remove(repo, RunEngine((_, _) => SnapshotRemoval.One(repo, id)));
        }
    }

    void Remove(SnapshotRepository repo, PlannedRemoval removal)
    {
        if (!ShouldProcess(removal.Snapshot.Id, removal.Action)) return;
        RunEngine((_, _) => SnapshotRemoval.Execute(repo, removal));
        if (PassThru) WriteObject(ExoBackup.Snapshot.From(repo.Root, removal.Snapshot));
    }
}
