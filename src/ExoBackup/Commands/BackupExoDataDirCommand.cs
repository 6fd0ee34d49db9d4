using System.Management.Automation;
using ExoBackup.Engine.Archive;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoDataDir: the data dir as a pax tar (zstd by default) and its index, full or changes since the parent.</summary>
[Cmdlet(VerbsData.Backup, "ExoDataDir", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoDataDirCommand : SnapshotCmdlet
{
    [Parameter] public CompressionType Compression { get; set; } = CompressionType.Zstd;

    [Parameter]
    [ValidateRange(1, 22)]
    public int CompressionLevel { get; set; } = 3;

    [Parameter] public SwitchParameter IncludeSwap { get; set; }

    [Parameter] public SwitchParameter IncludeTransactionStore { get; set; }

    [Parameter] public string[] Exclude { get; set; } = [];

    /// <summary>Compare file contents with the parent, not only size and mtime.</summary>
    [Parameter] public SwitchParameter Checksum { get; set; }

    [Parameter] public SwitchParameter SkipUnreadable { get; set; }

    /// <summary>Back up this bundle instead of the one the snapshot was opened for.</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var options = new DataDirOptions
        {
            IncludeSwap = IncludeSwap,
            IncludeTransactionStore = IncludeTransactionStore,
            Exclude = Exclude,
            Tree = new TreeBackupOptions
            {
                Compression = Mirror.To<CompressionKind>(Compression), Level = CompressionLevel, CompareContent = Checksum, SkipUnreadable = SkipUnreadable,
            },
        };
        BackUpPart(Platform, "the data dir", (repo, open, platform, log, ct) => PlatformFilesBackupService.BackupDataDir(repo, open, platform, options, log, ct));
    }
}
