using System.Management.Automation;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Runbook;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoPlatform: the whole runbook in one call, the parts in parallel, the downtime measured.</summary>
[Cmdlet(VerbsData.Backup, "ExoPlatform", SupportsShouldProcess = true)]
[OutputType(typeof(Snapshot))]
public sealed class BackupExoPlatformCommand : ExoCmdlet
{
    readonly List<string> _homes = [];

    /// <summary>The bundle, or several: cluster nodes are stopped and started together; the first is backed up.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Home")]
    [ValidateNotNullOrEmpty]
    public string[] Platform { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Repository { get; set; } = "";

    [Parameter] public SnapshotType Type { get; set; } = SnapshotType.Full;

    /// <summary>Stop eXo for the backup and start it again after (also when a part fails).</summary>
    [Parameter] public SwitchParameter StopPlatform { get; set; }

    /// <summary>With -StopPlatform: leave eXo stopped afterwards.</summary>
    [Parameter] public SwitchParameter NoRestart { get; set; }

    /// <summary>Back up a running eXo; the snapshot is marked Online.</summary>
    [Parameter] public SwitchParameter AllowOnline { get; set; }

    /// <summary>Only these parts (all by default).</summary>
    [Parameter] public SnapshotComponent[] Component { get; set; } = [];

    [Parameter] public CompressionType Compression { get; set; } = CompressionType.Zstd;

    [Parameter]
    [ValidateRange(1, 22)]
    public int CompressionLevel { get; set; } = 3;

    [Parameter] public string[] Exclude { get; set; } = [];

    /// <summary>Record unreadable files of the data dir in the part instead of failing.</summary>
    [Parameter] public SwitchParameter SkipUnreadable { get; set; }

    /// <summary>Database user instead of server.xml's.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    [Parameter] public string[] ToolPath { get; set; } = [];

    /// <summary>Seconds to wait for eXo to stop; -Force kills it after that (and breaks a stale repository lock).</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 120;

    /// <summary>With -StopPlatform: the account eXo is started again as (the bundle's owner by default).</summary>
    [Parameter] public string? RunAs { get; set; }

    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => _homes.AddRange(Platform.Select(ResolvePath));

    protected override void EndProcessing()
    {
        if (_homes.Count == 0) return;
        var platforms = RunEngine((_, _) => _homes.Select(h => PlatformDiscovery.Discover(h)).ToList());
        var components = Component.Length == 0
            ? new HashSet<string> { PlatformFilesBackupService.DataDir, PlatformFilesBackupService.Configuration, DatabaseBackupService.Component, ChatBackupService.Component }
            : Component.Select(c => c.ToString()).ToHashSet();
        var request = new PlatformBackupRequest
        {
            Platforms = platforms,
            Repository = ResolvePath(Repository),
            Type = Mirror.To<Engine.Repository.SnapshotType>(Type),
            StopPlatform = StopPlatform,
            NoRestart = NoRestart,
            AllowOnline = AllowOnline,
            Components = components,
            Compression = Mirror.To<CompressionKind>(Compression),
            DataDir = new DataDirOptions { Exclude = Exclude, Tree = new TreeBackupOptions { Level = CompressionLevel, SkipUnreadable = SkipUnreadable } },
            DatabaseUser = Credential?.UserName,
            DatabasePassword = Credential?.GetNetworkCredential().Password,
            Dump = new DumpOptions { ToolPaths = ToolPath.Select(ResolvePath).ToList(), Jobs = Jobs },
            StopTimeout = TimeSpan.FromSeconds(Timeout),
            ForceStop = Force,
            RunAs = RunAs,
            BreakStaleLock = Force,
        };
        if (!ShouldProcess(platforms[0].Home, PlatformBackup.Plan(request))) return;
        var result = RunEngine((log, ct) => PlatformBackup.Run(request, log, ct));
        foreach (var part in result.Snapshot.Manifest.Parts)
            WriteVerbose($"{part.Key}: {(part.Ended - part.Started).TotalSeconds:0.0} s");
        if (result.Downtime is { } d) WriteVerbose($"eXo was down for {d.TotalSeconds:0.0} s.");
        WriteObject(ExoBackup.Snapshot.From(request.Repository, result.Snapshot));
    }
}
