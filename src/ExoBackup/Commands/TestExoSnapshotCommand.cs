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

    /// <summary>Folders searched for pg_restore, mariadb, … before PATH.</summary>
    [Parameter] public string[] ToolPath { get; set; } = [];

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var toolPaths = ToolPath.Select(ResolvePath).ToList();
        var user = Credential?.UserName;
        var password = Credential?.GetNetworkCredential().Password;
        var findings = RunEngine((log, ct) =>
        {
            PlatformInfo? platform = null;
            var home = Platform is null ? repo.Get(id).Manifest.Platform.Home : ResolvePath(Platform);
            if (Level == VerifyLevel.Restore && Directory.Exists(home))
                try { platform = PlatformDiscovery.Discover(home); } catch (Engine.ExoBackupException) { }
            return SnapshotTest.Run(repo, id, Mirror.To<Engine.Restore.VerifyLevel>(Level), platform, user, password, toolPaths, log, ct);
        });
        // One result per part of each snapshot in the chain; the failures name their files.
        foreach (var g in findings.GroupBy(f => (f.Snapshot, f.Part)))
        {
            var bad = g.Where(f => !f.Passed).ToList();
            var checkedFiles = g.Count(f => f.Message == "checksum ok");
            var message = bad.Count > 0 ? string.Join("; ", bad.Select(f => f.Message))
                : string.Join("; ", g.Where(f => f.Message != "checksum ok").Select(f => f.Message).Prepend(checkedFiles > 0 ? $"{checkedFiles} file(s) checksum ok" : null).Where(m => m is not null));
            WriteObject(new TestResult
            {
                SnapshotId = g.Key.Snapshot, Part = g.Key.Part, Level = Level, Passed = bad.Count == 0, Message = message,
                File = string.Join(", ", (bad.Count > 0 ? bad : g.ToList()).Select(f => f.File).Where(f => f.Length > 0).Distinct()),
            });
        }
        var failed = findings.Where(f => !f.Passed).ToList();
        if (failed.Count > 0)
            WriteError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.SnapshotVerificationFailed", Engine.ErrorKind.InvalidData,
                $"Snapshot {id} failed {failed.Count} check(s): {string.Join("; ", failed.Take(3).Select(f => f.Message))}", id,
                "Do not rely on this snapshot; take a new full snapshot, and restore from an older one that passes if needed.")));
    }
}
