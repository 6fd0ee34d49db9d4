using System.Management.Automation;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>New-ExoSnapshot: opens a snapshot in a repository (creating the repository if needed) and takes its lock.</summary>
[Cmdlet(VerbsCommon.New, "ExoSnapshot", SupportsShouldProcess = true)]
[OutputType(typeof(Snapshot))]
public sealed class NewExoSnapshotCommand : ExoCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Repository { get; set; } = "";

    /// <summary>The bundle (a path or an ExoBackup.Platform).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Home")]
    [ValidateNotNullOrEmpty]
    public string Platform { get; set; } = "";

    [Parameter]
    public SnapshotType Type { get; set; } = SnapshotType.Full;

    /// <summary>Break a stale lock, or abandon a snapshot still open in this session.</summary>
    [Parameter] public SwitchParameter BreakLock { get; set; }

    protected override void ProcessRecord()
    {
        var repoPath = ResolvePath(Repository);
        var home = ResolvePath(Platform);
        if (!ShouldProcess(repoPath, $"Open a {Type} snapshot of {home}")) return;
        var entry = RunEngine((log, _) =>
        {
            var platform = PlatformDiscovery.Discover(home);
            var repo = SnapshotRepository.Open(repoPath, create: true);
            return repo.Begin(Mirror.To<Engine.Repository.SnapshotType>(Type), platform, BreakLock, log);
        });
        WriteObject(ExoBackup.Snapshot.From(repoPath, entry));
    }
}
