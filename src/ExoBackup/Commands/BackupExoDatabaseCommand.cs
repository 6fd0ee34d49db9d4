using System.Management.Automation;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoDatabase: each distinct (server, database) of eXo's datasources, with the engine's own tool.</summary>
[Cmdlet(VerbsData.Backup, "ExoDatabase", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoDatabaseCommand : SnapshotCmdlet
{
    /// <summary>Only these datasources (idm, jcr, jpa); all when omitted.</summary>
    [Parameter]
    [ValidateSet("idm", "jcr", "jpa", IgnoreCase = true)]
    public string[] Datasource { get; set; } = [];

    /// <summary>Connect as this user instead of the one in server.xml.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Folders searched for pg_dump, mariadb-dump, … before PATH.</summary>
    [Parameter] public string[] ToolPath { get; set; } = [];

    /// <summary>PostgreSQL: dump with this many jobs (directory format).</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    /// <summary>SQL Server: a folder the server can write its backup file into.</summary>
    [Parameter, Alias("ServerPath")] public string? ServerBackupPath { get; set; }

    /// <summary>Back up this bundle's datasources instead of the snapshot's platform.</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var options = new DumpOptions { ToolPaths = ToolPath.Select(ResolvePath).ToList(), Jobs = Jobs, ServerPath = ServerBackupPath };
        var user = Credential?.UserName;
        var password = Credential?.GetNetworkCredential().Password;
        BackUpParts(Platform, "the databases", (repo, open, platform, log, ct) =>
            DatabaseBackupService.Backup(repo, open, platform, Datasource, user, password, options, log, ct));
    }
}
