using System.Management.Automation;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoConfiguration: gatein/conf with the codec key, setenv-customize, server.xml, context.xml, jaas.conf and the add-on state.</summary>
[Cmdlet(VerbsData.Backup, "ExoConfiguration", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoConfigurationCommand : SnapshotCmdlet
{
    [Parameter] public CompressionType Compression { get; set; } = CompressionType.Zstd;

    /// <summary>Back up this bundle instead of the one the snapshot was opened for.</summary>
    [Parameter] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var open = RunEngine((_, _) => repo.GetOpen(id));
        var home = ResolvePath(Platform ?? open.Manifest.Platform.Home);
        if (!ShouldProcess(home, $"Back up the configuration into snapshot {id}")) return;
        var part = RunEngine((log, ct) =>
        {
            var platform = PlatformDiscovery.Discover(home);
            return PartRunner.Run(repo, open, () => PlatformProcess.FindPid(platform) is not null,
                () => PlatformParts.BackupConfiguration(open, platform, new TreeBackupOptions { Compression = (CompressionKind)(int)Compression, ProgressId = 2 }, log, ct), log);
        });
        foreach (var w in part.Warnings) WriteWarning(w);
        WriteObject(BackupPart.From(repo.Root, id, part));
    }
}
