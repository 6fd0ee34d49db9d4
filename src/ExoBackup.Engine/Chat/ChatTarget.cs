using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Chat;

/// <summary>eXo Chat's MongoDB database: where it is and who may read it.</summary>
public sealed record ChatTarget(IReadOnlyList<string> Hosts, string Database, string? User, string? Password, string AuthDatabase)
{
    public static ChatTarget From(ChatInfo c, string? database, string? user, string? password) =>
        new(c.Hosts, database ?? c.Database, user ?? (c.Authentication ? c.User : null), password ?? (c.Authentication ? c.Password : null), c.AuthenticationDatabase);

    /// <summary>A mongodb:// URI: user and hosts, never the password (that goes in a --config file or the driver's credential).</summary>
    public string Uri(bool withDatabase = true) =>
        $"mongodb://{(User is null ? "" : System.Uri.EscapeDataString(User) + "@")}{string.Join(',', Hosts)}/{(withDatabase ? Database : "")}" +
        (User is null ? "" : $"?authSource={System.Uri.EscapeDataString(AuthDatabase)}");

    public string Describe() => $"MongoDB {string.Join(',', Hosts)}/{Database}";

    /// <summary>
    /// Backup-ExoChat's target: a connection string when given, else the platform's chat settings,
    /// with -Server (hosts), -Database and the credential in their place where given.
    /// </summary>
    public static ChatTarget Resolve(PlatformInfo platform, string? connectionString, string? server, string? database, string? user, string? password)
    {
        if (connectionString is not null) return Parse(connectionString, database, user, password);
        var chat = platform.Chat ?? (server is not null
            ? new ChatInfo(server.Split(','), database ?? "chat", user is not null, "admin", user, password, "-Server")
            : throw new ExoBackupException("ExoBackup.ChatNotFound", ErrorKind.ObjectNotFound,
                $"{platform.Home} has no eXo Chat: no gatein/conf/chat.properties, no EXO_MONGO_* settings, no exo-chat add-on.", platform.Home,
                "Give -Server (and -Database, -Credential) if the chat database lives elsewhere."));
        return From(server is null ? chat : chat with { Hosts = server.Split(',') }, database, user, password);
    }

    /// <summary>
    /// Reads mongodb://[user[:password]@]host[:port][,host…]/[database][?authSource=…]. A password in
    /// the string is taken (and never shown again); -Credential is the better place for it.
    /// </summary>
    public static ChatTarget Parse(string connectionString, string? database, string? user, string? password)
    {
        const string scheme = "mongodb://";
        if (!connectionString.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new ExoBackupException("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument,
                "A MongoDB connection string starts with mongodb:// (mongodb+srv:// needs DNS lookups this module does not make).", null,
                "Give mongodb://[user@]host:port[,host:port]/database[?authSource=admin].");
        var rest = connectionString[scheme.Length..];
        string? u = null, p = null;
        var at = rest.LastIndexOf('@', rest.IndexOf('/') is var slash and >= 0 ? slash : rest.Length - 1);
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            u = System.Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo);
            p = colon >= 0 ? System.Uri.UnescapeDataString(userInfo[(colon + 1)..]) : null;
        }
        var q = rest.IndexOf('?');
        var query = q >= 0 ? rest[(q + 1)..] : "";
        if (q >= 0) rest = rest[..q];
        var s = rest.IndexOf('/');
        var hosts = (s >= 0 ? rest[..s] : rest).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => h.Contains(':') ? h : h + ":27017").ToList();
        var db = s >= 0 && s + 1 < rest.Length ? System.Uri.UnescapeDataString(rest[(s + 1)..]) : null;
        var authSource = query.Split('&').Select(x => x.Split('=', 2)).FirstOrDefault(x => x[0] == "authSource") is { Length: 2 } a ? System.Uri.UnescapeDataString(a[1]) : "admin";
        if (hosts.Count == 0)
            throw new ExoBackupException("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument, "The MongoDB connection string names no host.", null,
                "Give mongodb://host:port/database.");
        return new ChatTarget(hosts, database ?? db ?? "chat", user ?? u, password ?? p, authSource);
    }
}
