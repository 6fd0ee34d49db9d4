using System.Text.RegularExpressions;

namespace ExoBackup.Engine.Platform;

/// <summary>What a JDBC URL says: engine, server, database, and the URL with any password removed.</summary>
public sealed record JdbcTarget(
    DatabaseEngine Engine,
    string? Host,
    int? Port,
    string? Database,
    string SafeUrl,
    string? UserInUrl,
    string? PasswordInUrl,
    string? Instance = null);

/// <summary>
/// Parses the URL forms eXo's server.xml samples and its Docker image write (see the facts doc §3):
/// PostgreSQL (and EDB Postgres Plus), MySQL/MariaDB (including load-balanced host lists),
/// SQL Server (;databaseName=, host\instance, jTDS), HSQLDB file:/mem:, and Oracle thin.
/// </summary>
public static class JdbcUrl
{
    // Every place a JDBC URL can carry a password (finding 2.11): password= as a parameter, or inside
    // MySQL's address=(…)(password=…) and (host=…,password=…) forms; //user:password@host; Oracle's user/password@.
    static readonly Regex PasswordParam = new(@"(?i)([?&;:(,]password=)[^&;),]*", RegexOptions.Compiled);
    static readonly Regex UserInfo = new(@"^(?<pre>[^@]*?//)(?<user>[^:/@?;,()]+):(?<pw>[^@/?;]*)@", RegexOptions.Compiled);
    static readonly Regex OracleCredentials = new(@"(?i)^(?<pre>jdbc:oracle:[a-z0-9]+:)(?<user>[^/@:]+)/(?<pw>[^@]*)@", RegexOptions.Compiled);

    public static JdbcTarget Parse(string url)
    {
        var u = url.Trim();
        string? user = Param(u, "user") ?? Param(u, "username"), password = PasswordIn(u);
        var safe = PasswordParam.Replace(u, "$1***");
        foreach (var (form, masked) in new[] { (UserInfo, "${pre}${user}:***@"), (OracleCredentials, "${pre}${user}/***@") })
            if (form.Match(safe) is { Success: true } m)
            {
                user ??= Uri.UnescapeDataString(m.Groups["user"].Value);
                password ??= Uri.UnescapeDataString(m.Groups["pw"].Value);
                safe = form.Replace(safe, masked, 1);
            }
        try { return Parse(u, safe, user, password); }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw Errors.InvalidConnectionString(safe, e);
        }
    }

    static string? PasswordIn(string url)
    {
        var m = Regex.Match(url, @"(?i)[?&;:(,]password=([^&;),]*)");
        return m.Success ? Uri.UnescapeDataString(m.Groups[1].Value) : null;
    }

    static JdbcTarget Parse(string u, string safe, string? user, string? password)
    {
        var lower = u.ToLowerInvariant();

        if (lower.StartsWith("jdbc:postgresql:") || lower.StartsWith("jdbc:edb:") || lower.StartsWith("jdbc:pgsql:"))
        {
            var rest = u[(u.IndexOf(':', 5) + 1)..];
            var (host, port, path) = HostPortPath(rest, 5432);
            return new JdbcTarget(DatabaseEngine.PostgreSql, host, port, path, safe, user, password);
        }
        if (lower.StartsWith("jdbc:mysql:") || lower.StartsWith("jdbc:mariadb:"))
        {
            var rest = u[(u.IndexOf(':', 5) + 1)..];
            // jdbc:mysql:loadbalance://h1,h2/db and jdbc:mysql:replication://...
            var sub = rest.IndexOf("//", StringComparison.Ordinal);
            if (sub > 0) rest = rest[sub..];
            var (host, port, path) = HostPortPath(rest, 3306);
            return new JdbcTarget(DatabaseEngine.MySql, host, port, path, safe, user, password);
        }
        if (lower.StartsWith("jdbc:sqlserver:"))
        {
            var rest = u["jdbc:sqlserver:".Length..].TrimStart('/');
            var semi = rest.IndexOf(';');
            var server = semi >= 0 ? rest[..semi] : rest;
            string? instance = null;
            int? port = null;
            var colon = server.LastIndexOf(':');
            if (colon > 0 && int.TryParse(server[(colon + 1)..], out var p)) { port = p; server = server[..colon]; }
            var bs = server.IndexOf('\\');
            if (bs > 0) { instance = server[(bs + 1)..]; server = server[..bs]; }
            var db = Param(u, "databaseName") ?? Param(u, "database");
            server = Param(u, "serverName") ?? server;
            instance = Param(u, "instanceName") ?? instance;
            if (int.TryParse(Param(u, "portNumber") ?? Param(u, "port"), out var pn)) port = pn;
            if (port is null && instance is null) port = 1433;
            return new JdbcTarget(DatabaseEngine.SqlServer, server.Length == 0 ? "localhost" : server, port, db, safe, user, password, instance);
        }
        if (lower.StartsWith("jdbc:jtds:sqlserver:"))
        {
            var rest = u["jdbc:jtds:sqlserver:".Length..];
            var (host, port, path) = HostPortPath(rest.Split(';')[0], 1433);
            return new JdbcTarget(DatabaseEngine.SqlServer, host, port, path ?? Param(u, "databaseName"), safe, user, password, Param(u, "instance"));
        }
        if (lower.StartsWith("jdbc:hsqldb:"))
        {
            var rest = u["jdbc:hsqldb:".Length..];
            var semi = rest.IndexOf(';');
            var location = semi >= 0 ? rest[..semi] : rest;
            if (location.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) location = location[5..];
            return new JdbcTarget(DatabaseEngine.Hsqldb, null, null, location, safe, user, password);
        }
        if (lower.StartsWith("jdbc:oracle:"))
        {
            var at = u.IndexOf('@');
            var rest = at >= 0 ? u[(at + 1)..] : u[(u.IndexOf("thin:", StringComparison.OrdinalIgnoreCase) + 5)..];
            rest = rest.TrimStart('/');
            // host:port:SID or host:port/service
            var m = Regex.Match(rest, @"^(?<h>[^:/?]+)(:(?<p>\d+))?([:/](?<d>[^?;]+))?");
            if (m.Success)
                return new JdbcTarget(DatabaseEngine.Oracle, m.Groups["h"].Value,
                    m.Groups["p"].Success ? int.Parse(m.Groups["p"].Value) : 1521,
                    m.Groups["d"].Success ? m.Groups["d"].Value : null, safe, user, password);
            return new JdbcTarget(DatabaseEngine.Oracle, null, null, null, safe, user, password);
        }
        return new JdbcTarget(DatabaseEngine.Unknown, null, null, null, safe, user, password);
    }

    /// <summary>Reads "//host[:port][,host2...]/path?query" (the "//" may be missing: jdbc:postgresql:db).</summary>
    static (string? Host, int? Port, string? Path) HostPortPath(string rest, int defaultPort)
    {
        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            var db = rest.Split('?', ';')[0];
            return ("localhost", defaultPort, db.Length == 0 ? null : db);
        }
        rest = rest[2..];
        var slash = rest.IndexOfAny(['/', '?', ';']);
        var authority = slash >= 0 ? rest[..slash] : rest;
        string? path = null;
        if (slash >= 0 && rest[slash] == '/')
        {
            path = rest[(slash + 1)..].Split('?', ';')[0];
            if (path.Length == 0) path = null;
        }
        var first = authority.Split(',')[0];
        var at = first.LastIndexOf('@');
        if (at >= 0) first = first[(at + 1)..];
        string host;
        int port = defaultPort;
        if (first.StartsWith('['))
        {
            var close = first.IndexOf(']');
            if (close < 0) throw new FormatException("an IPv6 address opened with '[' is not closed with ']'");
            host = first[1..close];
            if (close + 1 < first.Length && first[close + 1] == ':' && int.TryParse(first[(close + 2)..], out var p6)) port = p6;
        }
        else
        {
            var colon = first.LastIndexOf(':');
            host = colon >= 0 ? first[..colon] : first;
            if (colon >= 0 && int.TryParse(first[(colon + 1)..], out var p)) port = p;
        }
        return (host.Length == 0 ? "localhost" : host, port, path == null ? null : Uri.UnescapeDataString(path));
    }

    static string? Param(string url, string name)
    {
        var m = Regex.Match(url, @"(?i)[?&;]" + Regex.Escape(name) + @"=([^&;]*)");
        return m.Success ? Uri.UnescapeDataString(m.Groups[1].Value) : null;
    }
}
