namespace ExoBackup.Engine.Platform;

/// <summary>One of the three SQL datasources eXo declares in conf/server.xml (idm, jcr, jpa).</summary>
public sealed record DatasourceInfo(
    string Name,
    string JndiName,
    DatabaseEngine Engine,
    string? Host,
    int? Port,
    string? Database,
    string? User,
    string? Password,
    string Url,
    string? DriverClass,
    string Source,
    string? Instance = null)
{
    /// <summary>What it is, never its password (a record's own ToString would print every member).</summary>
    public override string ToString() => $"{Name}: {Engine} {ServerKey}";

    /// <summary>Datasources with the same key live in the same database and are dumped once.</summary>
    public string ServerKey => Engine == DatabaseEngine.Hsqldb
        ? $"hsqldb:{Database}"
        : $"{Engine}:{Host?.ToLowerInvariant()}:{Port}:{Instance}:{Database}".ToLowerInvariant();
}

/// <summary>eXo Chat's MongoDB settings, from gatein/conf/chat.properties (or the Docker variables).</summary>
public sealed record ChatInfo(
    IReadOnlyList<string> Hosts,
    string Database,
    bool Authentication,
    string AuthenticationDatabase,
    string? User,
    string? Password,
    string Source)
{
    /// <summary>What it is, never its password.</summary>
    public override string ToString() => $"MongoDB {string.Join(',', Hosts)}/{Database}";
}

/// <summary>Where each part of the data directory is, after setenv, -D options and exo.properties.</summary>
public sealed record DataDirLayout(
    string DataDir,
    string Jcr,
    string JcrValues,
    string JcrIndex,
    string JcrSwap,
    string Files,
    string Jta,
    string Hsql,
    string Elasticsearch);

/// <summary>Everything Get-ExoPlatform learns about one eXo Tomcat bundle.</summary>
public sealed class PlatformInfo
{
    public required string Home { get; init; }
    public string ProductName { get; init; } = "";
    public string Version { get; init; } = "";
    public required DataDirLayout Data { get; init; }
    public required string ConfDir { get; init; }
    public string CodecDir => Path.Combine(ConfDir, "codec");
    public string CodecKeyFile => Path.Combine(CodecDir, "codeckey.txt");
    public required string PidFile { get; init; }
    public string? SetenvFile { get; init; }
    public int? ShutdownPort { get; init; }
    public string ShutdownCommand { get; init; } = "SHUTDOWN";
    public string ShutdownAddress { get; init; } = "localhost";
    public int? HttpPort { get; init; }
    public IReadOnlyList<DatasourceInfo> Datasources { get; init; } = [];
    public ChatInfo? Chat { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
    public bool IsRunning { get; set; }
    public int? Pid { get; set; }
    public string StartScript => Path.Combine(Home, OperatingSystem.IsWindows() ? "start_eXo.bat" : "start_eXo.sh");
    public string LogDir => Path.Combine(Home, "logs");
}
