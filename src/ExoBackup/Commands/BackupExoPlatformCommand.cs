using System.Management.Automation;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Reporting;
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

    /// <summary>Seconds to wait for eXo to stop; -Kill kills it after that.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 120;

    /// <summary>With -StopPlatform: the account eXo is started again as (the bundle's owner by default).</summary>
    [Parameter] public string? RunAs { get; set; }

    /// <summary>Kill eXo if it has not stopped after -Timeout seconds, as Stop-ExoPlatform -Kill.</summary>
    [Parameter] public SwitchParameter Kill { get; set; }

    /// <summary>Break a stale repository lock (its process gone), as New-ExoSnapshot -BreakLock.</summary>
    [Parameter] public SwitchParameter BreakLock { get; set; }

    // What the part cmdlets take, so that every option is reachable from the one-call backup.

    /// <summary>Data dir: also the JCR swap folder (temporary data, excluded by default), as Backup-ExoDataDir.</summary>
    [Parameter] public SwitchParameter IncludeSwap { get; set; }

    /// <summary>Data dir: also the transaction store (jta), as Backup-ExoDataDir.</summary>
    [Parameter] public SwitchParameter IncludeTransactionStore { get; set; }

    /// <summary>Data dir: read and hash every file, not only those whose size, times, inode or device moved, as Backup-ExoDataDir.</summary>
    [Parameter] public SwitchParameter Checksum { get; set; }

    /// <summary>Databases: only these datasources (idm, jcr, jpa), as Backup-ExoDatabase.</summary>
    [Parameter]
    [ValidateSet("idm", "jcr", "jpa", IgnoreCase = true)]
    public string[] Datasource { get; set; } = [];

    /// <summary>SQL Server: the folder on the server it writes its backup to, as Backup-ExoDatabase; refused before eXo stops when needed and missing.</summary>
    [Parameter, Alias("ServerPath")] public string? ServerBackupPath { get; set; }

    /// <summary>Chat: mongodump where installed (Auto), or always one way, as Backup-ExoChat.</summary>
    [Parameter] public ChatBackupMethod ChatMethod { get; set; } = ChatBackupMethod.Auto;

    /// <summary>Chat: a mongodb:// or mongodb+srv:// connection string, where the bundle's settings do not say (or say otherwise).</summary>
    [Parameter] public string? ChatConnectionString { get; set; }

    /// <summary>Chat: connect to MongoDB as this user (-Credential is the SQL databases').</summary>
    [Parameter]
    [Credential]
    public PSCredential? ChatCredential { get; set; }

    /// <summary>A dead man's switch: pinged at &lt;url&gt;/start, then &lt;url&gt; on success or &lt;url&gt;/fail (healthchecks.io's convention).</summary>
    [Parameter] public Uri? PingUrl { get; set; }

    /// <summary>A Prometheus textfile (node_exporter's textfile collector) rewritten after each run.</summary>
    [Parameter] public string? MetricsFile { get; set; }

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
            DataDir = new DataDirOptions
            {
                Exclude = Exclude, IncludeSwap = IncludeSwap, IncludeTransactionStore = IncludeTransactionStore,
                Tree = new TreeBackupOptions { Level = CompressionLevel, SkipUnreadable = SkipUnreadable, CompareContent = Checksum },
            },
            Datasources = Datasource,
            ChatMethod = Mirror.To<ChatMethod>(ChatMethod),
            ChatConnectionString = ChatConnectionString,
            ChatUser = ChatCredential?.UserName,
            ChatPassword = ChatCredential?.GetNetworkCredential().Password,
            DatabaseUser = Credential?.UserName,
            DatabasePassword = Credential?.GetNetworkCredential().Password,
            Dump = new DumpOptions { ToolPaths = ToolPath.Select(ResolvePath).ToList(), Jobs = Jobs, ServerPath = ServerBackupPath },
            StopTimeout = TimeSpan.FromSeconds(Timeout),
            ForceStop = Kill,
            RunAs = RunAs,
            BreakStaleLock = BreakLock,
        };
        var plan = RunEngine((_, _) => PlatformBackup.Plan(request));
        if (!ShouldProcess(platforms[0].Home, plan)) return;
        var monitor = new MonitorOptions { PingUrl = PingUrl, MetricsFile = MetricsFile is null ? null : ResolvePath(MetricsFile) };
        var result = RunEngine((log, ct) => BackupMonitor.Run(request, monitor, log, ct));
        foreach (var part in result.Snapshot.Manifest.Parts)
            WriteVerbose($"{part.Key}: {(part.Ended - part.Started).TotalSeconds:0.0} s");
        if (result.Downtime is { } d) WriteVerbose($"eXo was down for {d.TotalSeconds:0.0} s.");
        WriteObject(ExoBackup.Snapshot.From(request.Repository, result.Snapshot));
    }
}
