using System.Management.Automation;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Commands;

/// <summary>Restore-ExoSnapshot: verifies, then puts the snapshot's components back, keeping what they replace.</summary>
[Cmdlet(VerbsData.Restore, "ExoSnapshot", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RestoreResult))]
public sealed class RestoreExoSnapshotCommand : SnapshotCmdlet
{
    /// <summary>The bundle to restore into (a path or an ExoBackup.Platform); the snapshot's own when omitted.</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    [Parameter] public SnapshotComponent[] Component { get; set; } = [];

    /// <summary>Restore the data dir here instead of the platform's.</summary>
    [Parameter] public string? DataDir { get; set; }

    /// <summary>Restore only the files matching these patterns (in place; replaced files are kept).</summary>
    [Parameter] public string[] Include { get; set; } = [];

    /// <summary>Apply every owner the snapshot's index names; by default an owner other than the target's becomes the target's (a warning says how many).</summary>
    [Parameter] public SwitchParameter KeepOwner { get; set; }

    /// <summary>Keep setuid, setgid, sticky and world-writable bits; by default they are dropped (a warning says how many).</summary>
    [Parameter] public SwitchParameter KeepSpecialMode { get; set; }

    /// <summary>Delete what the restore replaces instead of keeping it as *.pre-restore-&lt;time&gt;.</summary>
    [Parameter] public SwitchParameter DiscardReplaced { get; set; }

    /// <summary>Databases: restore onto this server (host or host:port), a new host after a disaster.</summary>
    [Parameter] public string? Server { get; set; }

    /// <summary>Databases: restore under this name (one database only).</summary>
    [Parameter] public string? Database { get; set; }

    /// <summary>Databases: connect as this user (it must be allowed to create databases).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Folders searched for pg_restore, mariadb, … before PATH.</summary>
    [Parameter] public string[] ToolPath { get; set; } = [];

    /// <summary>Chat: mongorestore where installed (Auto), or always one way.</summary>
    [Parameter] public ChatBackupMethod ChatMethod { get; set; } = ChatBackupMethod.Auto;

    /// <summary>SQL Server: the folder, on the server, for the restored data and log files (RESTORE … MOVE).</summary>
    [Parameter, Alias("DataFilePath")] public string? ServerDataPath { get; set; }

    /// <summary>PostgreSQL: restore with this many jobs.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var snapshot = RunEngine((_, _) => repo.GetComplete(id));
        var home = ResolvePath(Platform ?? snapshot.Manifest.Platform.Home);
        var platform = RunEngine((_, _) => PlatformDiscovery.Discover(home));
        var request = new RestoreRequest
        {
            Platform = platform,
            DataDir = DataDir is null ? null : ResolvePath(DataDir),
            PathFilter = Include,
            DiscardReplaced = DiscardReplaced,
            KeepOwners = KeepOwner,
            KeepSpecialModes = KeepSpecialMode,
            Server = Server,
            Database = Database,
            User = Credential?.UserName,
            Password = Credential?.GetNetworkCredential().Password,
            ToolPaths = ToolPath.Select(ResolvePath).ToList(),
            Jobs = Jobs,
            DataFilePath = ServerDataPath,
            // -Database names the chat database when chat alone is restored.
            ChatDatabase = Component is [SnapshotComponent.Chat] ? Database : null,
            ChatMethod = Mirror.To<Engine.Chat.ChatMethod>(ChatMethod),
        };
        var restorers = RunEngine((_, _) => SnapshotRestore.Select(snapshot, Component.Select(c => c.ToString()).ToList()));
        // Refused before anyone is asked to confirm; under -WhatIf, said in a warning beside the plan.
        if (MyInvocation.BoundParameters.ContainsKey("WhatIf"))
        {
            try { SnapshotRestore.RequireStopped(platform); }
            catch (Engine.ExoBackupException e) { WriteWarning($"The restore would be refused: {e.Message}"); }
        }
        else RunEngine((_, _) => SnapshotRestore.RequireStopped(platform));
        var chosen = restorers.Where(r => ShouldProcess(home, r.Describe(snapshot, request))).ToList();
        if (chosen.Count == 0) return;
        var results = RunEngine((log, ct) => SnapshotRestore.Run(repo, snapshot, chosen, request, log, ct));
        foreach (var r in results)
            WriteObject(new RestoreResult
            {
                SnapshotId = id, Component = r.Component, Target = r.Target, PreviousDataKeptAt = r.PreviousKeptAt,
                Items = r.Items, ItemKind = r.ItemKind, Bytes = r.Bytes, Records = r.Records, Duration = r.Duration,
            });
    }
}
