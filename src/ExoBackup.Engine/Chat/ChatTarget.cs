using ExoBackup.Engine.Platform;
using MongoDB.Driver;
using MongoDB.Driver.Core.Configuration;

namespace ExoBackup.Engine.Chat;

/// <summary>
/// eXo Chat's MongoDB database: where it is and who may read it. With <paramref name="Srv"/>, Hosts is the one
/// name of a mongodb+srv:// string, whose DNS SRV record the driver (or mongodump) looks the servers up in.
/// </summary>
public sealed record ChatTarget(IReadOnlyList<string> Hosts, string Database, string? User, string? Password, string AuthDatabase, bool Srv = false)
{
    public static ChatTarget From(ChatInfo c, string? database, string? user, string? password) =>
        new(c.Hosts, database ?? c.Database, user ?? (c.Authentication ? c.User : null), password ?? (c.Authentication ? c.Password : null), c.AuthenticationDatabase);

    /// <summary>A mongodb:// (or mongodb+srv://) URI: user and hosts, never the password (that goes in a --config file or the driver's credential).</summary>
    public string Uri(bool withDatabase = true) =>
        $"{(Srv ? "mongodb+srv" : "mongodb")}://{(User is null ? "" : System.Uri.EscapeDataString(User) + "@")}{string.Join(',', Hosts)}/{(withDatabase ? Database : "")}" +
        (User is null ? "" : $"?authSource={System.Uri.EscapeDataString(AuthDatabase)}");

    public string Describe() => $"MongoDB {string.Join(',', Hosts)}/{Database}";

    /// <summary>What it is, never its password (a record's own ToString would print every member).</summary>
    public override string ToString() => Describe();

    /// <summary>
    /// Backup-ExoChat's target: a connection string when given, else the platform's chat settings,
    /// with -Server (hosts), -Database and the credential in their place where given.
    /// </summary>
    public static ChatTarget Resolve(PlatformInfo platform, string? connectionString, string? server, string? database, string? user, string? password)
    {
        if (connectionString is not null) return Parse(connectionString, database, user, password);
        var chat = platform.Chat ?? (server is not null
            ? new ChatInfo(server.Split(','), database ?? "chat", user is not null, "admin", user, password, "-Server")
            : throw Errors.ChatNotFound(platform.Home));
        return From(server is null ? chat : chat with { Hosts = server.Split(',') }, database, user, password);
    }

    /// <summary>
    /// Reads mongodb://[user[:password]@]host[:port][,host…]/[database][?authSource=…], or mongodb+srv://
    /// with one host and no port, with the driver's MongoUrl; its other options (and those of an SRV name's
    /// TXT record) are not used. A password in the string is taken (and never shown again); -Credential is
    /// the better place for it. -Database and the credential given win.
    /// </summary>
    public static ChatTarget Parse(string connectionString, string? database, string? user, string? password)
    {
        if (!connectionString.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase) && !connectionString.StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase))
            throw Errors.InvalidConnectionStringMongoScheme();
        MongoUrl url;
        try { url = new MongoUrl(connectionString); }
        catch (Exception e) when (e is MongoException or ArgumentException or FormatException or OverflowException)
        {
            // The driver's message may quote the string, password included: neither it nor the exception is passed on.
            throw Errors.InvalidConnectionStringMongo();
        }
        var srv = url.Scheme == ConnectionStringScheme.MongoDBPlusSrv;
        return new ChatTarget(srv ? [url.Servers.Single().Host] : url.Servers.Select(a => $"{a.Host}:{a.Port}").ToList(), database ?? url.DatabaseName ?? "chat",
            user ?? url.Username, password ?? url.Password, url.AuthenticationSource ?? "admin", srv);
    }
}
