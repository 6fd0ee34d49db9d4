using System.Management.Automation;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoChat: eXo Chat's MongoDB database, with mongodump where installed, else the driver in mongodump's layout.</summary>
[Cmdlet(VerbsData.Backup, "ExoChat", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoChatCommand : SnapshotCmdlet
{
    /// <summary>mongodump where installed (Auto), or always one way: the same name as Restore-ExoSnapshot's.</summary>
    [Parameter, Alias("Method")] public ChatBackupMethod ChatMethod { get; set; } = ChatBackupMethod.Auto;

    /// <summary>Hosts (host:port, comma-separated) instead of chat.properties' dbServerHosts.</summary>
    [Parameter] public string? Server { get; set; }

    /// <summary>A mongodb:// connection string instead of chat.properties (give the password with -Credential).</summary>
    [Parameter] public string? ConnectionString { get; set; }

    /// <summary>The chat database instead of chat.properties' dbName.</summary>
    [Parameter] public string? Database { get; set; }

    /// <summary>Connect as this user (authentication database from chat.properties, default admin).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Folders searched for mongodump before PATH.</summary>
    [Parameter] public string[] ToolPath { get; set; } = [];

    /// <summary>Back up this bundle's chat instead of the snapshot's platform's.</summary>
    [Parameter, Alias("Home")] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var toolPaths = ToolPath.Select(ResolvePath).ToList();
        var user = Credential?.UserName;
        var password = Credential?.GetNetworkCredential().Password;
        BackUpPart(Platform, "the chat database", (_, open, platform, log, ct) =>
            ChatBackupService.Backup(open, ChatTarget.Resolve(platform, ConnectionString, Server, Database, user, password), Mirror.To<ChatMethod>(ChatMethod), toolPaths, log, ct));
    }
}
