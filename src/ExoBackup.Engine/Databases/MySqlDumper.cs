using System.Text;
using System.Text.Json;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using MySqlConnector;

namespace ExoBackup.Engine.Databases;

/// <summary>
/// MySQL and MariaDB with their own tools: mariadb-dump (or mysqldump) streamed through zstd into
/// the snapshot, the client fed from the decompressed stream on restore. The password reaches them
/// only through a 0600 --defaults-extra-file; MYSQL_PWD is removed from their environment.
/// </summary>
public sealed class MySqlDumper : IDatabaseDumper
{
    const string CompletionMarker = "-- Dump completed";

    public DatabaseEngine Engine => DatabaseEngine.MySql;

    static MySqlConnection Connect(DatabaseTarget t, string? database)
    {
        var cs = new MySqlConnectionStringBuilder
        {
            Server = t.Host, Port = (uint)t.Port, Database = database ?? "", UserID = t.User, Password = t.Password,
            ConnectionTimeout = 10, Pooling = false, CharacterSet = "utf8mb4", AllowPublicKeyRetrieval = true, SslMode = MySqlSslMode.Preferred,
        };
        var c = new MySqlConnection(cs.ConnectionString);
        try { c.Open(); }
        catch (Exception e) { c.Dispose(); throw Describe(e, t, database ?? ""); }
        return c;
    }

    static ExoBackupException Describe(Exception e, DatabaseTarget t, string database) => e switch
    {
        MySqlException { ErrorCode: MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied } me =>
            new("ExoBackup.DatabaseAuthenticationFailed", ErrorKind.AuthenticationError,
                $"MySQL/MariaDB at {t.Host}:{t.Port} refused user '{t.User}': {me.Message.Replace(t.Password.Length > 0 ? t.Password : "\0", "***")}", t.Describe(),
                "Check the username and password of the datasource in conf/server.xml, or give -Credential.", e),
        MySqlException { ErrorCode: MySqlErrorCode.UnknownDatabase } =>
            new("ExoBackup.DatabaseNotFound", ErrorKind.ObjectNotFound, $"MySQL/MariaDB at {t.Host}:{t.Port} has no database '{database}'.", t.Describe(),
                "Check the datasource URL in conf/server.xml.", e),
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } or System.Net.Sockets.SocketException or TimeoutException =>
            new("ExoBackup.DatabaseUnreachable", ErrorKind.ConnectionError, $"Cannot connect to MySQL/MariaDB at {t.Host}:{t.Port}: {e.GetBaseException().Message}", t.Describe(),
                "Check that the server runs and that this host may connect.", e),
        _ => new("ExoBackup.DatabaseError", ErrorKind.InvalidOperation, $"MySQL/MariaDB at {t.Host}:{t.Port}: {e.Message}", t.Describe(),
                "Read the server's message; the part was not recorded.", e),
    };

    internal static string Quote(string identifier) => "`" + identifier.Replace("`", "``") + "`";

    public DatabaseProbe Probe(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t, t.Database);
        object? Scalar(string sql) { using var cmd = new MySqlCommand(sql, c); cmd.Parameters.AddWithValue("@db", t.Database); return cmd.ExecuteScalar(); }
        var version = Scalar("SELECT VERSION()")?.ToString() ?? "";
        var sessions = Convert.ToInt64(Scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()"));
        var position = new Dictionary<string, string>();
        foreach (var sql in new[] { "SHOW MASTER STATUS", "SHOW BINARY LOG STATUS" })
        {
            try
            {
                using var cmd = new MySqlCommand(sql, c);
                using var r = cmd.ExecuteReader();
                if (r.Read()) { position["binlogFile"] = r.GetString(0); position["binlogPosition"] = r.GetValue(1).ToString() ?? ""; }
                break;
            }
            catch (MySqlException) { } // no binary log, no privilege, or the other spelling of the statement
        }
        using (var cmd = new MySqlCommand("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @db", c))
        {
            cmd.Parameters.AddWithValue("@db", t.Database);
            using var r = cmd.ExecuteReader();
            if (r.Read()) { position["charset"] = r.GetString(0); position["collation"] = r.GetString(1); }
        }
        var major = int.TryParse(version.Split('.')[0], out var m) ? m : 0;
        return new DatabaseProbe(version, major, sessions, Task.Run(() => CountRows(t, ct), ct), position);
    }

    static List<TableCount> CountRows(MySqlConnection c, string db, CancellationToken ct)
    {
        var tables = new List<string>();
        using (var cmd = new MySqlCommand("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = @db AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", c))
        {
            cmd.Parameters.AddWithValue("@db", db);
            using var r = cmd.ExecuteReader();
            while (r.Read()) tables.Add(r.GetString(0));
        }
        var counts = new List<TableCount>();
        foreach (var t in tables)
        {
            ct.ThrowIfCancellationRequested();
            using var cmd = new MySqlCommand($"SELECT COUNT(*) FROM {Quote(db)}.{Quote(t)}", c);
            counts.Add(new TableCount(t, Convert.ToInt64(cmd.ExecuteScalar())));
        }
        return counts;
    }

    /// <summary>An option file: the only place the password goes. Values are double-quoted with \ and " escaped.</summary>
    internal static string OptionFile(DatabaseTarget t)
    {
        static string Q(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        return $"[client]\nuser={Q(t.User)}\npassword={Q(t.Password)}\nhost={Q(t.Host)}\nport={t.Port}\nprotocol=TCP\n";
    }

    static readonly Dictionary<string, string?> Environment = new() { ["MYSQL_PWD"] = null, ["MYSQL_HOST"] = null };

    public PartRecord Dump(DatabaseTarget t, DatabaseProbe probe, SnapshotEntry s, string name, DumpOptions o, IOperationLog log, CancellationToken ct)
    {
        var tool = ExternalTool.Find(o.ToolPaths, "mariadb-client", "mariadb-dump", "mysqldump");
        var toolVersion = tool.ReadVersion(ct);
        var rel = $"db/{name}.sql.zst";
        var output = Path.Combine(s.Path, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var tail = new byte[256];
        var tailLength = 0;
        using (var options = new SecretFile("client.cnf", OptionFile(t)))
        using (DatabaseDumpers.Watch(output, $"Dumping {t.Describe()} with {tool.Name}", log))
        {
            // --defaults-extra-file must come first, or the tools ignore it.
            var args = new List<string>
            {
                "--defaults-extra-file=" + options.Path,
                "--single-transaction", "--routines", "--triggers", "--events", "--hex-blob",
                "--default-character-set=utf8mb4", "--skip-lock-tables", t.Database,
            };
            var code = tool.Run(args, Environment, null, stdout =>
            {
                using var file = SnapshotRepository.CreateFile(output);
                using var z = Compression.Compress(file, CompressionKind.Zstd, 3);
                var buffer = new byte[1 << 16];
                int n;
                while ((n = stdout.Read(buffer)) > 0)
                {
                    z.Write(buffer, 0, n);
                    // Keep the last bytes: the dump must end with its completion marker.
                    if (n >= tail.Length) { Array.Copy(buffer, n - tail.Length, tail, 0, tail.Length); tailLength = tail.Length; }
                    else
                    {
                        var keep = Math.Min(tailLength, tail.Length - n);
                        Array.Copy(tail, tailLength - keep, tail, 0, keep);
                        Array.Copy(buffer, 0, tail, keep, n);
                        tailLength = keep + n;
                    }
                }
            }, ct, out var stderr);
            if (code != 0) throw tool.Failed(code, stderr);
        }
        var end = Encoding.UTF8.GetString(tail, 0, tailLength);
        if (!end.Contains(CompletionMarker, StringComparison.Ordinal))
            throw new ExoBackupException("ExoBackup.DumpIncomplete", ErrorKind.InvalidData,
                $"The dump of {t.Describe()} by {tool.Name} does not end with \"{CompletionMarker}\": it was cut short.", t.Describe(),
                "Run the tool by hand to see why; the part was not recorded.");
        var part = new PartRecord { Component = "Database", Name = name, Tool = tool.Name, ToolVersion = toolVersion?.ToString() ?? "" };
        part.Details["format"] = "sql+zstd";
        part.Details["dump"] = rel;
        part.Files = DatabaseDumpers.Files(s, [rel]);
        DatabaseDumpers.Record(part, t, probe);
        return part;
    }

    public string VerifyArchive(SnapshotEntry s, PartRecord part, IReadOnlyList<string> toolPaths, CancellationToken ct)
    {
        var expected = JsonSerializer.Deserialize<Dictionary<string, long>>(part.Details["rowCounts"]) ?? [];
        var created = new HashSet<string>(StringComparer.Ordinal);
        string? last = null;
        using (var reader = new StreamReader(Compression.OpenRead(Path.Combine(s.Path, part.Details["dump"]))))
        {
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                ct.ThrowIfCancellationRequested();
                if (line.StartsWith("CREATE TABLE `", StringComparison.Ordinal))
                    created.Add(line[14..line.IndexOf('`', 14)].Replace("``", "`"));
                if (line.Length > 0) last = line;
            }
        }
        if (last is null || !last.StartsWith(CompletionMarker, StringComparison.Ordinal))
            throw new InvalidDataException($"the dump does not end with \"{CompletionMarker}\"");
        var missing = expected.Keys.Where(k => !created.Contains(k)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"the dump creates no table {missing[0]}");
        return $"the dump is complete and creates {created.Count} table(s)";
    }

    public DatabaseRestored Restore(DatabaseTarget t, SnapshotEntry s, PartRecord part, DatabaseRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        var client = ExternalTool.Find(o.ToolPaths, "mariadb-client", "mariadb", "mysql");
        string? kept = null;
        var charset = part.Details.GetValueOrDefault("charset") ?? "utf8mb4";
        var collation = part.Details.GetValueOrDefault("collation");
        using (var admin = Connect(t, null))
        {
            void Exec(string sql) { using var cmd = new MySqlCommand(sql, admin); cmd.ExecuteNonQuery(); }
            long Scalar(string sql) { using var cmd = new MySqlCommand(sql, admin); cmd.Parameters.AddWithValue("@db", t.Database); return Convert.ToInt64(cmd.ExecuteScalar()); }
            if (Scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @db") > 0)
            {
                var sessions = Scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()");
                if (sessions > 0)
                    throw new ExoBackupException("ExoBackup.DatabaseInUse", ErrorKind.ResourceBusy,
                        $"{sessions} session(s) are connected to {t.Describe()}; it cannot be replaced.", t.Describe(), "Stop eXo on every node (and other clients) first.");
                if (!o.DiscardReplaced)
                {
                    // MySQL cannot rename a database: the one replaced is dumped into the repository first.
                    var folder = o.KeepFolder ?? throw new InvalidOperationException("KeepFolder is required to keep a MySQL database.");
                    var keep = new SnapshotEntry("pre-restore-" + o.Stamp, folder, SnapshotStatus.InProgress, new SnapshotManifest());
                    var name = $"{t.Database}-{o.Stamp}";
                    Dump(t, Probe(t, ct), keep, name, new DumpOptions { ToolPaths = o.ToolPaths }, log, ct);
                    kept = Path.Combine(folder, "db", name + ".sql.zst");
                    log.Verbose($"Kept the database it replaces as the dump {kept}.");
                }
                Exec($"DROP DATABASE {Quote(t.Database)}");
            }
            Exec($"CREATE DATABASE {Quote(t.Database)} CHARACTER SET {charset}{(collation is null ? "" : " COLLATE " + collation)}");
        }
        using (var options = new SecretFile("client.cnf", OptionFile(t)))
        using (DatabaseDumpers.Watch(Path.Combine(s.Path, part.Details["dump"]), $"Restoring {t.Describe()} with {client.Name}", log))
        {
            var code = client.Run(["--defaults-extra-file=" + options.Path, "--default-character-set=utf8mb4", "--binary-mode", t.Database], Environment, stdin =>
            {
                using var dump = Compression.OpenRead(Path.Combine(s.Path, part.Details["dump"]));
                dump.CopyTo(stdin, 1 << 16);
            }, null, ct, out var stderr);
            if (code != 0)
                throw new ExoBackupException("ExoBackup.ToolFailed", ErrorKind.InvalidOperation,
                    $"{client.Name} failed to restore {t.Describe()} (exit code {code}): {stderr}{(kept is null ? "" : $" The replaced database is kept in {kept}.")}",
                    t.Describe(), "Read the message; restore the kept dump by hand if needed.");
        }
        var counts = CountRows(t, ct);
        return new DatabaseRestored(t.Database, kept, counts.Count, counts.Sum(x => x.Rows));
    }

    public void Drop(DatabaseTarget t, CancellationToken ct)
    {
        using var admin = Connect(t, null);
        using var cmd = new MySqlCommand($"DROP DATABASE IF EXISTS {Quote(t.Database)}", admin);
        cmd.ExecuteNonQuery();
    }

    public IReadOnlyList<TableCount> CountRows(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t, t.Database);
        try { return CountRows(c, t.Database, ct); }
        catch (MySqlException e) { throw Describe(e, t, t.Database); }
    }
}
