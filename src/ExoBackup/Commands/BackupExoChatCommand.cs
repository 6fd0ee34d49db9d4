using System.Management.Automation;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>Backup-ExoChat: eXo Chat's MongoDB database, with mongodump where installed, else the driver in mongodump's layout.</summary>
[Cmdlet(VerbsData.Backup, "ExoChat", DefaultParameterSetName = BySnapshot, SupportsShouldProcess = true)]
[OutputType(typeof(BackupPart))]
public sealed class BackupExoChatCommand : SnapshotCmdlet
{
    [Parameter] public ChatBackupMethod Method { get; set; } = ChatBackupMethod.Auto;

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
    [Parameter] public string? Platform { get; set; }

    protected override void ProcessRecord()
    {
        var toolPaths = ToolPath.Select(ResolvePath).ToList();
        var user = Credential?.UserName;
        var password = Credential?.GetNetworkCredential().Password;
        BackUpPart(Platform, "the chat database", (_, open, platform, log, ct) =>
        {
            if (ConnectionString is not null)
                return ChatParts.Backup(open, ChatTarget.Parse(ConnectionString, Database, user, password), (ChatMethod)(int)Method, toolPaths, log, ct);
            var chat = platform.Chat ?? (Server is not null
                ? new ChatInfo(Server.Split(','), Database ?? "chat", user is not null, "admin", user, password, "-Server")
                : throw new Engine.ExoBackupException("ExoBackup.ChatNotFound", Engine.ErrorKind.ObjectNotFound,
                    $"{platform.Home} has no eXo Chat: no gatein/conf/chat.properties, no EXO_MONGO_* settings, no exo-chat add-on.", platform.Home,
                    "Give -Server (and -Database, -Credential) if the chat database lives elsewhere."));
            var target = ChatTarget.From(Server is null ? chat : chat with { Hosts = Server.Split(',') }, Database, user, password);
            return ChatParts.Backup(open, target, (ChatMethod)(int)Method, toolPaths, log, ct);
        });
    }
}
