using System.Management.Automation;

namespace ExoBackup.Commands;

/// <summary>Complete-ExoSnapshot: writes manifest.json and SHA256SUMS, renames the snapshot into place, releases the lock.</summary>
[Cmdlet(VerbsLifecycle.Complete, "ExoSnapshot", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(Snapshot))]
public sealed class CompleteExoSnapshotCommand : SnapshotCmdlet
{
    /// <summary>Accept parts taken while eXo ran; the snapshot is then marked Online.</summary>
    [Parameter] public SwitchParameter AllowOnline { get; set; }

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        if (!ShouldProcess(id, "Complete the snapshot")) return;
        var done = RunEngine((log, _) => repo.Complete(id, AllowOnline, log));
        WriteObject(ExoBackup.Snapshot.From(repo.Root, done));
    }
}
