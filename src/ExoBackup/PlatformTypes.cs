using System.Management.Automation;
using System.Security;
using EnginePlatform = ExoBackup.Engine.Platform;

namespace ExoBackup;

/// <summary>The database engines eXo can run on.</summary>
public enum DatabaseEngine { Unknown, PostgreSql, MySql, SqlServer, Hsqldb, Oracle }

/// <summary>An eXo Tomcat bundle as Get-ExoPlatform found it.</summary>
public sealed class Platform
{
    public string Home { get; init; } = "";
    public string ProductName { get; init; } = "";
    public string Version { get; init; } = "";
    public bool IsRunning { get; init; }
    public int? Pid { get; init; }
    public string DataDir { get; init; } = "";
    public string JcrDir { get; init; } = "";
    public string JcrValuesDir { get; init; } = "";
    public string JcrIndexDir { get; init; } = "";
    public string JcrSwapDir { get; init; } = "";
    public string FilesDir { get; init; } = "";
    public string TransactionStoreDir { get; init; } = "";
    public string HsqldbDir { get; init; } = "";
    public string ElasticsearchDir { get; init; } = "";
    public bool HasEmbeddedElasticsearch { get; init; }
    public string ConfDir { get; init; } = "";
    public string CodecDir { get; init; } = "";
    public bool HasCodecKey { get; init; }
    public string PidFile { get; init; } = "";
    public string? SetenvFile { get; init; }
    public int? ShutdownPort { get; init; }
    public int? HttpPort { get; init; }
    public Datasource[] Datasources { get; init; } = [];
    public ChatStore? Chat { get; init; }
    public string[] Notes { get; init; } = [];

    public override string ToString() => Home;

    internal static Platform From(EnginePlatform.PlatformInfo p) => new()
    {
        Home = p.Home,
        ProductName = p.ProductName,
        Version = p.Version,
        IsRunning = p.IsRunning,
        Pid = p.Pid,
        DataDir = p.Data.DataDir,
        JcrDir = p.Data.Jcr,
        JcrValuesDir = p.Data.JcrValues,
        JcrIndexDir = p.Data.JcrIndex,
        JcrSwapDir = p.Data.JcrSwap,
        FilesDir = p.Data.Files,
        TransactionStoreDir = p.Data.Jta,
        HsqldbDir = p.Data.Hsql,
        ElasticsearchDir = p.Data.Elasticsearch,
        HasEmbeddedElasticsearch = Directory.Exists(p.Data.Elasticsearch),
        ConfDir = p.ConfDir,
        CodecDir = p.CodecDir,
        HasCodecKey = File.Exists(p.CodecKeyFile),
        PidFile = p.PidFile,
        SetenvFile = p.SetenvFile,
        ShutdownPort = p.ShutdownPort,
        HttpPort = p.HttpPort,
        Datasources = p.Datasources.Select(Datasource.From).ToArray(),
        Chat = p.Chat is null ? null : ChatStore.From(p.Chat),
        Notes = p.Notes.ToArray(),
    };

    internal static PSCredential? Credential(string? user, string? password)
    {
        if (string.IsNullOrEmpty(user)) return null;
        var secure = new SecureString();
        foreach (var c in password ?? "") secure.AppendChar(c);
        secure.MakeReadOnly();
        return new PSCredential(user, secure);
    }
}

/// <summary>One of eXo's SQL datasources (idm, jcr, jpa) from conf/server.xml. The password is only in Credential.</summary>
public sealed class Datasource
{
    public string Name { get; init; } = "";
    public string JndiName { get; init; } = "";
    public DatabaseEngine Engine { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? Instance { get; init; }
    public string? Database { get; init; }
    public string? User { get; init; }
    [Hidden] public PSCredential? Credential { get; init; }
    public string Url { get; init; } = "";
    public string? DriverClass { get; init; }
    public string Source { get; init; } = "";

    public override string ToString() => Host is null
        ? $"{Name}: {Engine} {Database}"
        : $"{Name}: {Engine} {Host}{(Instance is null ? "" : "\\" + Instance)}{(Port is null ? "" : ":" + Port)}/{Database}";

    internal static Datasource From(EnginePlatform.DatasourceInfo d) => new()
    {
        Name = d.Name,
        JndiName = d.JndiName,
        Engine = Mirror.To<DatabaseEngine>(d.Engine),
        Host = d.Host,
        Port = d.Port,
        Instance = d.Instance,
        Database = d.Database,
        User = d.User,
        Credential = Platform.Credential(d.User, d.Password),
        Url = d.Url,
        DriverClass = d.DriverClass,
        Source = d.Source,
    };
}

/// <summary>eXo Chat's MongoDB database, from gatein/conf/chat.properties. The password is only in Credential.</summary>
public sealed class ChatStore
{
    public string[] Hosts { get; init; } = [];
    public string Database { get; init; } = "chat";
    public bool Authentication { get; init; }
    public string AuthenticationDatabase { get; init; } = "admin";
    public string? User { get; init; }
    [Hidden] public PSCredential? Credential { get; init; }
    public string Source { get; init; } = "";

    /// <summary>The connection string eXo Chat builds, without any password.</summary>
    public string ConnectionString =>
        $"mongodb://{(Authentication && User is not null ? Uri.EscapeDataString(User) + "@" : "")}{string.Join(',', Hosts)}/{Database}" +
        (Authentication ? $"?authSource={AuthenticationDatabase}" : "");

    public override string ToString() => ConnectionString;

    internal static ChatStore From(EnginePlatform.ChatInfo c) => new()
    {
        Hosts = c.Hosts.ToArray(),
        Database = c.Database,
        Authentication = c.Authentication,
        AuthenticationDatabase = c.AuthenticationDatabase,
        User = c.User,
        Credential = Platform.Credential(c.User, c.Password),
        Source = c.Source,
    };
}

/// <summary>A database driver as the module loaded it (Get-ExoDriver).</summary>
public sealed class DriverInfo
{
    public string Name { get; init; } = "";
    public string Assembly { get; init; } = "";
    public string Version { get; init; } = "";
    public bool Loaded { get; init; }
    public string LoadContext { get; init; } = "";
    public string Location { get; init; } = "";
    public string? Error { get; init; }
}
