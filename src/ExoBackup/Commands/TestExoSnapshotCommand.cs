using System.Management.Automation;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Commands;

/// <summary>Test-ExoSnapshot: verifies checksums (Checksum), reads every archive against its index (Archive), or restores into a scratch folder (Restore).</summary>
[Cmdlet(VerbsDiagnostic.Test, "ExoSnapshot", DefaultParameterSetName = BySnapshot)]
[OutputType(typeof(TestResult))]
public sealed class TestExoSnapshotCommand : SnapshotCmdlet
{
    [Parameter] public VerifyLevel Level { get; set; } = VerifyLevel.Checksum;

    /// <summary>Level Restore: the bundle whose server.xml gives the database passwords (the snapshot's own when omitted).</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    /// <summary>Level Restore: connect to the database servers as this user.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Level Restore: the folder the trees are restored into (a temporary folder by default); its free space is checked first.</summary>
    [Parameter] public string? ScratchPath { get; set; }

    /// <summary>Level Restore: the database server (host[:port]) the scratch databases go on (the datasource's own by default).</summary>
    [Parameter] public string? ScratchServer { get; set; }

    /// <summary>Folders searched for pg_restore, mariadb, … before PATH.</summary>
    [Parameter] public string[] ToolPath { get; set; } = [];

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var toolPaths = ToolPath.Select(ResolvePath).ToList();
        var user = Credential?.UserName;
        var password = Credential?.GetNetworkCredential().Password;
        var scratch = new ScratchOptions { Folder = ScratchPath is null ? null : ResolvePath(ScratchPath), DatabaseServer = ScratchServer };
        var findings = RunEngine((log, ct) =>
        {
            PlatformInfo? platform = null;
            var home = Platform is null ? repo.Get(id).Manifest.Platform.Home : ResolvePath(Platform);
            if (Level == VerifyLevel.Restore && Directory.Exists(home))
                try { platform = PlatformDiscovery.Discover(home); } catch (Engine.ExoBackupException) { }
            return SnapshotTest.Run(repo, id, Mirror.To<Engine.Restore.VerifyLevel>(Level), platform, user, password, toolPaths, log, ct, scratch);
        });
        foreach (var v in SnapshotTest.Summarize(findings))
            WriteObject(new TestResult { SnapshotId = v.Snapshot, Part = v.Part, Level = Level, Passed = v.Passed, Message = v.Message, File = v.Files });
        if (SnapshotTest.Failure(id, findings) is { } failure) WriteError(ToErrorRecord(failure));
    }
}
