using System.IO.Compression;
using System.Text.RegularExpressions;

namespace ExoBackup.Engine.Platform;

/// <summary>
/// Reads an eXo Tomcat bundle the way eXo itself resolves its settings (facts doc §2–§4):
/// setenv-customize first, then the environment, then the defaults; -D options; then
/// docker.properties and exo.properties for the storage paths; server.xml for the datasources
/// and ports; chat.properties for MongoDB.
/// </summary>
public static class PlatformDiscovery
{
    static readonly string[] DatasourceKinds = ["idm", "jcr", "jpa"];

    public static PlatformInfo Discover(string path, IReadOnlyDictionary<string, string>? environment = null)
    {
        var home = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (home.Length == 0) home = Path.GetFullPath(path);
        RequireBundle(home);
        try { return Read(home, environment); }
        catch (ArgumentException e)
        {
            // A setting that makes no valid path (a NUL byte, say): say so, as for any malformed file.
            throw Errors.ConfigurationMalformedPath(home, e);
        }
    }

    static PlatformInfo Read(string home, IReadOnlyDictionary<string, string>? environment)
    {
        environment ??= ProcessEnvironment();
        var notes = new List<string>();

        var scope = new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            ["CATALINA_BASE"] = home,
            ["CATALINA_HOME"] = home,
        };
        scope.TryAdd("HOME", Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

        // setenv-customize: the admin's own settings, which win over the environment.
        var (setenvFile, setenv) = ReadSetenv(home, scope, notes);
        string? Setting(string name) =>
            setenv.TryGetValue(name, out var a) ? a.Value : environment.TryGetValue(name, out var e) ? e : null;

        var jvmOptions = string.Join(' ', new[] { Setting("CATALINA_OPTS"), Setting("JAVA_OPTS") }.Where(s => !string.IsNullOrEmpty(s)));
        var sysProps = new Dictionary<string, string>(ShellSettingsReader.SystemProperties(jvmOptions), StringComparer.Ordinal);

        var dataDir = Absolute(home, sysProps.GetValueOrDefault("exo.data.dir") ?? NonEmpty(Setting("EXO_DATA_DIR")) ?? Path.Combine(home, "gatein", "data"));
        var confDir = Absolute(home, sysProps.GetValueOrDefault("exo.conf.dir") ?? NonEmpty(Setting("EXO_CONF_DIR")) ?? Path.Combine(home, "gatein", "conf"));

        // The system properties setenv.sh builds, unless an admin set them with -D.
        var props = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["catalina.base"] = home,
            ["catalina.home"] = home,
            ["user.home"] = scope["HOME"],
            ["exo.data.dir"] = dataDir,
            ["exo.conf.dir"] = confDir,
            ["gatein.conf.dir"] = confDir,
            ["exo.jcr.data.dir"] = Path.Combine(dataDir, "jcr"),
            ["exo.jcr.storage.data.dir"] = Path.Combine(dataDir, "jcr", "values"),
            ["exo.jcr.index.data.dir"] = Path.Combine(dataDir, "jcr", "index"),
            ["exo.files.storage.dir"] = Path.Combine(dataDir, "files"),
        };
        foreach (var kv in sysProps) props[kv.Key] = kv.Value;

        // docker.properties is loaded before exo.properties and wins over it (eXo's configuration.xml order).
        var exoProps = LoadOptional(Path.Combine(confDir, "exo.properties"));
        var dockerProps = LoadOptional(Path.Combine(confDir, "docker.properties"));
        string Resolve(string v) => ExpandPlaceholders(v, props);
        foreach (var key in new[] { "exo.jcr.storage.data.dir", "exo.jcr.index.data.dir", "exo.files.storage.dir", "es.path.data", "es.cluster.name" })
        {
            var v = dockerProps[key] ?? exoProps[key];
            if (!string.IsNullOrWhiteSpace(v) && !sysProps.ContainsKey(key)) props[key] = Absolute(home, Resolve(v.Trim()));
        }

        var jcr = Absolute(home, props["exo.jcr.data.dir"]);
        var layout = new DataDirLayout(
            dataDir,
            jcr,
            Absolute(home, props["exo.jcr.storage.data.dir"]),
            Absolute(home, props["exo.jcr.index.data.dir"]),
            Path.Combine(jcr, "swap"),
            Absolute(home, props["exo.files.storage.dir"]),
            Path.Combine(dataDir, "jta"),
            Path.Combine(dataDir, "hsql"),
            props.TryGetValue("es.path.data", out var es) ? es
                : Path.Combine(dataDir, props.GetValueOrDefault("es.cluster.name") ?? "exoplatform-es"));

        var server = ServerXml.Load(Path.Combine(home, "conf", "server.xml"), Resolve);
        var datasources = ReadDatasources(server, exoProps, Setting, Resolve, notes);
        var chat = ReadChat(home, confDir, sysProps, Setting, notes);
        var (product, version) = ReadVersion(home);

        var pidFile = Absolute(home, NonEmpty(Setting("CATALINA_PID")) ?? Path.Combine(home, "temp", "catalina.pid"));
        var info = new PlatformInfo
        {
            Home = home,
            ProductName = product,
            Version = version,
            Data = layout,
            ConfDir = confDir,
            PidFile = pidFile,
            SetenvFile = setenvFile,
            ShutdownPort = server.ShutdownPort,
            ShutdownCommand = server.ShutdownCommand,
            ShutdownAddress = server.ShutdownAddress,
            HttpPort = server.HttpPort,
            Datasources = datasources,
            Chat = chat,
            Notes = notes,
        };
        PlatformProcess.Refresh(info);
        return info;
    }

    static void RequireBundle(string home)
    {
        if (!Directory.Exists(home))
            throw Errors.PlatformNotFound(home);
        var serverXml = Path.Combine(home, "conf", "server.xml");
        var hasStart = File.Exists(Path.Combine(home, "start_eXo.sh")) || File.Exists(Path.Combine(home, "start_eXo.bat"));
        var hasGatein = Directory.Exists(Path.Combine(home, "gatein"));
        if (!File.Exists(serverXml) || !(hasStart || hasGatein))
        {
            var missing = new List<string>();
            if (!File.Exists(serverXml)) missing.Add("conf/server.xml");
            if (!hasStart && !hasGatein) missing.Add("start_eXo.sh or gatein/");
            throw Errors.NotAnExoBundle(home, missing);
        }
    }

    static (string? File, IReadOnlyDictionary<string, ShellAssignment> Values) ReadSetenv(string home, Dictionary<string, string> scope, List<string> notes)
    {
        var sh = Path.Combine(home, "bin", "setenv-customize.sh");
        var bat = Path.Combine(home, "bin", "setenv-customize.bat");
        var order = OperatingSystem.IsWindows() ? new[] { bat, sh } : new[] { sh, bat };
        foreach (var file in order)
        {
            if (!Present(file)) continue;
            try
            {
                return (file, file.EndsWith(".bat", StringComparison.OrdinalIgnoreCase)
                    ? ShellSettingsReader.ReadBatch(file, scope)
                    : ShellSettingsReader.ReadPosix(file, scope, notes));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Errors.ConfigurationUnreadable(file, e);
            }
        }
        return (null, new Dictionary<string, ShellAssignment>());
    }

    static IReadOnlyList<DatasourceInfo> ReadDatasources(ServerXml server, JavaProperties exoProps,
        Func<string, string?> setting, Func<string, string> resolve, List<string> notes)
    {
        var list = new List<DatasourceInfo>();
        foreach (var kind in DatasourceKinds)
        {
            var jndi = JndiName(kind, exoProps[$"exo.{kind}.datasource.name"]);
            if (server.Resources.TryGetValue(jndi, out var res))
            {
                var url = res.Attributes.GetValueOrDefault("url") ?? "";
                if (url.Length == 0)
                    throw Errors.ConfigurationMalformedUrl(server.File, res.Line, jndi);
                var t = JdbcUrl.Parse(url);
                var user = res.Attributes.GetValueOrDefault("username") ?? res.Attributes.GetValueOrDefault("user") ?? t.UserInUrl;
                var password = res.Attributes.GetValueOrDefault("password") ?? t.PasswordInUrl;
                if (t.Engine == DatabaseEngine.Unknown)
                    notes.Add($"{server.File}:{res.Line}: datasource {jndi} uses a JDBC URL this module does not know ({t.SafeUrl}).");
                list.Add(new DatasourceInfo(kind, jndi, t.Engine, t.Host, t.Port,
                    t.Engine == DatabaseEngine.Hsqldb && t.Database is not null ? resolve(t.Database) : t.Database,
                    user, password, t.SafeUrl, res.Attributes.GetValueOrDefault("driverClassName"),
                    $"{server.File}:{res.Line}", t.Instance));
                continue;
            }
            // The Docker image writes server.xml from EXO_DB_*; where only the variables are at hand, use them.
            var type = setting("EXO_DB_TYPE");
            if (!string.IsNullOrEmpty(type))
            {
                var engine = type.ToLowerInvariant() switch
                {
                    "mysql" or "mariadb" => DatabaseEngine.MySql,
                    "pgsql" or "postgres" or "postgresql" => DatabaseEngine.PostgreSql,
                    "hsqldb" => DatabaseEngine.Hsqldb,
                    "oracle" or "ora" => DatabaseEngine.Oracle,
                    _ => DatabaseEngine.Unknown,
                };
                var port = int.TryParse(setting("EXO_DB_PORT"), out var p) ? p
                    : engine switch { DatabaseEngine.MySql => 3306, DatabaseEngine.PostgreSql => 5432, DatabaseEngine.Oracle => 1521, _ => (int?)null };
                var host = setting("EXO_DB_HOST") ?? "db";
                var db = setting("EXO_DB_NAME") ?? "exo";
                list.Add(new DatasourceInfo(kind, jndi, engine, host, port, db, setting("EXO_DB_USER") ?? "exo",
                    setting("EXO_DB_PASSWORD"), $"(EXO_DB_TYPE={type}) {host}:{port}/{db}", null, "EXO_DB_* variables"));
                continue;
            }
            notes.Add($"{server.File}: no <Resource name=\"{jndi}\"> in GlobalNamingResources; the {kind} datasource is unknown.");
        }
        return list;
    }

    /// <summary>exo.jcr/idm.datasource.name are prefixes ("java:/comp/env/exo-jcr") to which eXo adds "_portal"; jpa's is the full name.</summary>
    internal static string JndiName(string kind, string? configured)
    {
        var name = string.IsNullOrWhiteSpace(configured) ? $"exo-{kind}" : configured.Trim();
        foreach (var prefix in new[] { "java:/comp/env/", "java:comp/env/" })
            if (name.StartsWith(prefix, StringComparison.Ordinal)) name = name[prefix.Length..];
        if (!name.EndsWith("_portal", StringComparison.Ordinal)) name += "_portal";
        return name;
    }

    static ChatInfo? ReadChat(string home, string confDir, IReadOnlyDictionary<string, string> sysProps,
        Func<string, string?> setting, List<string> notes)
    {
        var file = sysProps.GetValueOrDefault("exo.chat.conf") is { Length: > 0 } f ? Absolute(home, f) : Path.Combine(confDir, "chat.properties");
        var chatInstalled = File.Exists(Path.Combine(home, "addons", "statuses", "exo-chat.status"));
        if (Present(file))
        {
            var p = JavaProperties.Load(file);
            var hosts = (p["dbServerHosts"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (hosts.Count == 0 && !string.IsNullOrWhiteSpace(p["dbServerHost"]))
                hosts.Add($"{p["dbServerHost"]!.Trim()}:{NonEmpty(p["dbServerPort"]?.Trim()) ?? "27017"}");
            if (hosts.Count == 0) hosts.Add("localhost:27017");
            for (var i = 0; i < hosts.Count; i++)
                if (!hosts[i].Contains(':')) hosts[i] += ":27017";
            if (p["dbServerType"] is { } type && type.Trim().Equals("embed", StringComparison.OrdinalIgnoreCase))
                notes.Add($"{file}: dbServerType=embed is eXo's test mode; there is no chat database to back up.");
            var auth = bool.TryParse(p["dbAuthentication"]?.Trim(), out var a) && a;
            return new ChatInfo(hosts, NonEmpty(p["dbName"]?.Trim()) ?? "chat", auth,
                NonEmpty(p["adminDatabase"]?.Trim()) ?? "admin",
                NonEmpty(p["dbUser"]?.Trim()), NonEmpty(p["dbPassword"]), file);
        }
        var mongoHost = setting("EXO_MONGO_HOST");
        if (!string.IsNullOrEmpty(mongoHost))
        {
            var user = setting("EXO_MONGO_USERNAME");
            var pass = setting("EXO_MONGO_PASSWORD");
            var hasAuth = !string.IsNullOrEmpty(user) && user != "-";
            return new ChatInfo([$"{mongoHost}:{setting("EXO_MONGO_PORT") ?? "27017"}"], setting("EXO_MONGO_DB_NAME") ?? "chat",
                hasAuth, "admin", hasAuth ? user : null, hasAuth && pass != "-" ? pass : null, "EXO_MONGO_* variables");
        }
        if (chatInstalled)
        {
            notes.Add($"eXo Chat is installed but {file} is missing: using eXo's defaults (localhost:27017, database chat).");
            return new ChatInfo(["localhost:27017"], "chat", false, "admin", null, null, "eXo Chat defaults");
        }
        return null;
    }

    /// <summary>The version from the edition-service jar's conf/platform.properties, else from versioned jar names (eXo ≤ 6.1).</summary>
    internal static (string Product, string Version) ReadVersion(string home)
    {
        var lib = Path.Combine(home, "lib");
        if (!Directory.Exists(lib)) return ("", "");
        foreach (var jar in Directory.EnumerateFiles(lib, "*edition-service*.jar").Order())
        {
            try
            {
                using var zip = ZipFile.OpenRead(jar);
                var entry = zip.GetEntry("conf/platform.properties");
                if (entry is null) continue;
                // 1 MiB is hundreds of times the real file; a bomb inflating to gigabytes stops there.
                using var stream = entry.Open();
                var p = JavaProperties.Parse(IO.BoundedRead.Text(stream, $"{jar}!conf/platform.properties", 1 << 20));
                if (!string.IsNullOrWhiteSpace(p["product.version"]))
                    return (p["product.name"]?.Trim() ?? "", p["product.version"]!.Trim());
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { }
        }
        foreach (var jar in Directory.EnumerateFiles(lib, "plf-*.jar").Order())
        {
            var m = Regex.Match(Path.GetFileName(jar), @"^plf-[a-z-]+?-(\d+\.\d+[0-9A-Za-z.\-]*)\.jar$");
            if (m.Success) return ("eXo Platform", m.Groups[1].Value);
        }
        return ("", "");
    }

    static JavaProperties LoadOptional(string file) => Present(file) ? JavaProperties.Load(file) : JavaProperties.Empty;

    /// <summary>Something is at that path: a file, or a folder where a file should be (which then fails to read, clearly).</summary>
    static bool Present(string path) => File.Exists(path) || Directory.Exists(path);

    /// <summary>
    /// ${name} and ${name:default} from the properties eXo and Tomcat define (catalina.*, exo.*, the -D
    /// options of the setenv files), as Tomcat resolves server.xml from system properties only. Never
    /// from this process's environment: the eXo account could make a backup run as root fill root's
    /// variables into a host name (finding 2.10). What is not defined stays literal.
    /// </summary>
    internal static string ExpandPlaceholders(string value, IReadOnlyDictionary<string, string> props) =>
        Regex.Replace(value, @"\$\{([^}:]+)(?::([^}]*))?\}", m =>
            props.TryGetValue(m.Groups[1].Value, out var v) ? v
            : m.Groups[2].Success ? m.Groups[2].Value
            : m.Value);

    static string Absolute(string home, string p) =>
        Path.GetFullPath(Path.IsPathRooted(p) ? p : Path.Combine(home, p)).TrimEnd(Path.DirectorySeparatorChar) is { Length: > 0 } s ? s : "/";

    static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    internal static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            d[(string)e.Key] = (string?)e.Value ?? "";
        return d;
    }
}
