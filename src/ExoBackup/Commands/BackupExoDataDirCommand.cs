using System.Management.Automation;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

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
    [Parameter] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var open = RunEngine((_, _) => repo.GetOpen(id));
        var home = ResolvePath(Platform ?? open.Manifest.Platform.Home);
        if (!ShouldProcess(home, $"Back up the data dir into snapshot {id}")) return;
        var part = RunEngine((log, ct) =>
        {
            var platform = PlatformDiscovery.Discover(home);
            var options = new DataDirOptions
            {
                IncludeSwap = IncludeSwap,
                IncludeTransactionStore = IncludeTransactionStore,
                Exclude = Exclude,
                Tree = new TreeBackupOptions
                {
                    Compression = (CompressionKind)(int)Compression, Level = CompressionLevel, CompareContent = Checksum, SkipUnreadable = SkipUnreadable,
                },
            };
            return PartRunner.Run(repo, open, () => PlatformProcess.FindPid(platform) is not null,
                () => PlatformParts.BackupDataDir(repo, open, platform, options, log, ct), log);
        });
        WriteObject(BackupPart.From(repo.Root, id, part));
    }
}
