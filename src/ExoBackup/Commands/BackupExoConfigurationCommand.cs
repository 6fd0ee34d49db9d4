using System.Management.Automation;
using ExoBackup.Engine.Archive;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoConfiguration: gatein/conf with the codec key, setenv-customize, server.xml, context.xml, jaas.conf and the add-on state.</summary>
[Cmdlet(VerbsData.Backup, "ExoConfiguration", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoConfigurationCommand : SnapshotCmdlet
{
    [Parameter] public CompressionType Compression { get; set; } = CompressionType.Zstd;

    /// <summary>Back up this bundle instead of the one the snapshot was opened for.</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    protected override void ProcessRecord() =>
        BackUpPart(Platform, "the configuration", (_, open, platform, log, ct) =>
            PlatformFilesBackupService.BackupConfiguration(open, platform, new TreeBackupOptions { Compression = Mirror.To<CompressionKind>(Compression), ProgressId = 2 }, log, ct));
}
