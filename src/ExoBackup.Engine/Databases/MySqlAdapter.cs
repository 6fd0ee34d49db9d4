using ExoBackup.Engine.IO;
using System.Text;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using MySqlConnector;
using static ExoBackup.Engine.Databases.DbCommands;

namespace ExoBackup.Engine.Databases;

/// <summary>
/// MySQL and MariaDB with their own tools: mariadb-dump (or mysqldump) streamed through zstd into
/// the snapshot, the client fed from the decompressed stream on restore. The password reaches them
/// only through a 0600 --defaults-file; MYSQL_PWD is removed from their environment.
/// </summary>
public sealed class MySqlAdapter : IDatabaseEngineAdapter
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
            Errors.DatabaseAuthenticationFailed(
                $"MySQL/MariaDB at {t.Host}:{t.Port} refused user '{t.User}': {me.Message.Replace(t.Password.Length > 0 ? t.Password : "\0", "***")}", t.Describe(), e),
        MySqlException { ErrorCode: MySqlErrorCode.UnknownDatabase } =>
            Errors.DatabaseNotFound($"MySQL/MariaDB at {t.Host}:{t.Port} has no database '{database}'.", t.Describe(), e),
        MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } or System.Net.Sockets.SocketException or TimeoutException =>
            Errors.DatabaseUnreachable($"Cannot connect to MySQL/MariaDB at {t.Host}:{t.Port}: {e.GetBaseException().Message}", t.Describe(), e),
        _ => Errors.DatabaseError($"MySQL/MariaDB at {t.Host}:{t.Port}: {e.Message}", t.Describe(), e),
    };

    internal static string Quote(string identifier) => "`" + identifier.Replace("`", "``") + "`";

    public DatabaseProbe Probe(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t, t.Database);
        var version = DbCommands.Scalar(c, "SELECT VERSION()")?.ToString() ?? "";
        var sessions = Scalar(c, OtherSessionsSql, t.Database);
        (string? File, long? Position) binlog = (null, null);
        foreach (var sql in new[] { "SHOW MASTER STATUS", "SHOW BINARY LOG STATUS" })
        {
            try
            {
                using var cmd = new MySqlCommand(sql, c);
                using var r = cmd.ExecuteReader();
                if (r.Read()) binlog = (r.GetString(0), Convert.ToInt64(r.GetValue(1)));
                break;
            }
            catch (MySqlException) { } // no binary log, no privilege, or the other spelling of the statement
        }
        var defaults = DefaultCharset(c, t.Database);
        var major = int.TryParse(version.Split('.')[0], out var m) ? m : 0;
        return new DatabaseProbe(version, major, sessions, Task.Run(() => CountRows(t, ct), ct))
        {
            BinlogFile = binlog.File, BinlogPosition = binlog.Position, Charset = defaults?.Charset, Collation = defaults?.Collation,
        };
    }

    static List<TableCount> CountRows(MySqlConnection c, string db, CancellationToken ct)
    {
        var tables = Tables(c, db);
        var counts = new List<TableCount>();
        foreach (var t in tables)
        {
            ct.ThrowIfCancellationRequested();
            counts.Add(new TableCount(t, Convert.ToInt64(DbCommands.Scalar(c, $"SELECT COUNT(*) FROM {Quote(db)}.{Quote(t)}"))));
        }
        return counts;
    }

    /// <summary>
    /// An option file: the only place the password goes. Values are double-quoted with \ and " escaped,
    /// and refused with a control character in them (a line break would add options).
    /// </summary>
    internal static string OptionFile(DatabaseTarget t)
    {
        string Q(string s, string what) => OptionFileValue.Quoted(s, what, t.Describe());
        return $"[client]\nuser={Q(t.User, "user")}\npassword={Q(t.Password, "password")}\nhost={Q(t.Host, "host")}\nport={t.Port}\nprotocol=TCP\n";
    }

    static readonly Dictionary<string, string?> Environment = new() { ["MYSQL_PWD"] = null, ["MYSQL_HOST"] = null };

    public PartRecord Dump(DatabaseTarget t, DatabaseProbe probe, SnapshotEntry s, string name, DumpOptions o, IOperationLog log, CancellationToken ct)
    {
        var tool = ExternalTool.Find(o.ToolPaths, "mariadb-client", "mariadb-dump", "mysqldump");
        var toolVersion = tool.ReadVersion(ct);
        var rel = $"db/{name}.sql.zst";
        var output = Path.Combine(s.Path, rel);
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(output)!);
        var tail = new byte[256];
        var tailLength = 0;
        using (var options = new SecretFile("client.cnf", OptionFile(t)))
        using (DatabaseEngines.Watch(output, $"Dumping {t.Describe()} with {tool.Name}", log))
        {
            // --defaults-file must come first, or the tools ignore it; it also keeps them from reading any other option file.
            var args = new List<string>
            {
                "--defaults-file=" + options.Path,
                "--single-transaction", "--routines", "--triggers", "--events", "--hex-blob",
                "--default-character-set=utf8mb4", "--skip-lock-tables", "--", OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe()),
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
            if (code != 0) throw tool.Failed(code, stderr, t.Password);
        }
        var end = Encoding.UTF8.GetString(tail, 0, tailLength);
        if (!end.Contains(CompletionMarker, StringComparison.Ordinal))
            throw Errors.DumpIncomplete($"The dump of {t.Describe()} by {tool.Name} does not end with \"{CompletionMarker}\": it was cut short.", t.Describe(), tool.Name);
        var part = new PartRecord { Component = "Database", Name = name, Tool = tool.Name, ToolVersion = toolVersion?.ToString() ?? "" };
        part.Database.Format = "sql+zstd";
        part.Database.Dump = rel;
        part.Files = DatabaseEngines.Files(s, [rel]);
        DatabaseEngines.Record(part, t, probe);
        return part;
    }

    public string VerifyArchive(SnapshotEntry s, PartRecord part, IReadOnlyList<string> toolPaths, CancellationToken ct)
    {
        var expected = DatabaseBackupService.RowCounts(part);
        var created = new HashSet<string>(StringComparer.Ordinal);
        string? last = null;
        using (var reader = new StreamReader(Compression.OpenRead(s, DatabaseBackupService.DumpOf(part))))
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
        string? kept;
        var charset = part.Database.Charset ?? "utf8mb4";
        var collation = part.Database.Collation;
        var dumpName = DatabaseBackupService.DumpOf(part);
        using (var admin = Connect(t, null))
        {
            // From the manifest, so from whoever can write the repository: checked before any statement (finding 3.1).
            CheckName(admin, charset, "character set", "information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME", part);
            if (collation is not null) CheckName(admin, collation, "collation", "information_schema.COLLATIONS WHERE COLLATION_NAME", part);
            kept = SetAside(admin, t, o.DiscardReplaced ? null : DatabaseEngines.KeptName(t.Database, o.Stamp, MaxNameLength), log);
            try { Exec(admin, $"CREATE DATABASE {Quote(t.Database)} CHARACTER SET {charset}{(collation is null ? "" : " COLLATE " + collation)}"); }
            catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.AccessDenied && kept is null)
            {
                // The first change a staged restore makes: eXo's own user, with rights on its database only, stops here (finding 6.1).
                throw Errors.InsufficientPrivilegeMySql(
                    $"{t.User} may not restore {t.Describe()}: it lacks CREATE on other databases (a restore is staged in a database of its own beside the one in place, then its tables are renamed into place). Nothing was changed.",
                    t.Describe(), e);
            }
        }
        using (var options = new SecretFile("client.cnf", OptionFile(t)))
        using (DatabaseEngines.Watch(Path.Combine(s.Path, dumpName), $"Restoring {t.Describe()} with {client.Name}", log))
        {
            var code = client.Run(["--defaults-file=" + options.Path, "--default-character-set=utf8mb4", "--binary-mode", "--", OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe())], Environment, stdin =>
            {
                using var dump = Compression.OpenRead(s, dumpName);
                dump.CopyTo(stdin, 1 << 16);
            }, null, ct, out var stderr);
            if (code != 0)
                throw Errors.ToolFailedRestore(
                    $"{client.Name} failed to restore {t.Describe()} (exit code {code}): {ExternalTool.Redact(stderr, t.Password)}{(kept is null ? "" : $" The replaced database is kept as {kept}.")}",
                    t.Describe());
        }
        var counts = CountRows(t, ct);
        return new DatabaseRestored(t.Database, kept, counts.Count, counts.Sum(x => x.Rows), counts);
    }

    public bool CanSwap => true;
    public int MaxNameLength => 64;

    /// <summary>
    /// MySQL cannot rename a database, but RENAME TABLE moves tables between databases in a moment:
    /// the tables in place go to the kept database, then the staged ones take their place. A kill
    /// between the two leaves both whole, as with PostgreSQL's two renames.
    /// </summary>
    public string? Swap(DatabaseTarget t, string staged, string? keepAs, IOperationLog log, CancellationToken ct)
    {
        using var admin = Connect(t, null);
        RefuseObjectsThatCannotMove(admin, staged, t);
        var kept = SetAside(admin, t, keepAs, log);
        try
        {
            Exec(admin, $"CREATE DATABASE {Quote(t.Database)} {Charset(admin, staged)}");
            MoveTables(admin, staged, t.Database);
        }
        catch when (kept is not null)
        {
            Exec(admin, $"DROP DATABASE IF EXISTS {Quote(t.Database)}");
            Exec(admin, $"CREATE DATABASE {Quote(t.Database)} {Charset(admin, kept)}");
            MoveTables(admin, kept, t.Database);
            Exec(admin, $"DROP DATABASE {Quote(kept)}");
            throw;
        }
        Exec(admin, $"DROP DATABASE {Quote(staged)}");
        return kept;
    }

    /// <summary>
    /// Every table of one database into another, in one RENAME TABLE statement (all or none). A
    /// trigger blocks a table's move, so triggers are read, dropped, and created again beside their tables.
    /// </summary>
    static void MoveTables(MySqlConnection admin, string from, string to)
    {
        var triggers = Column(admin, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = @db ORDER BY TRIGGER_NAME", ("@db", from))
            .Select(name => (Name: name, SqlMode: "", Create: "")).ToList();
        for (var i = 0; i < triggers.Count; i++)
        {
            using var cmd = new MySqlCommand($"SHOW CREATE TRIGGER {Quote(from)}.{Quote(triggers[i].Name)}", admin);
            using var r = cmd.ExecuteReader();
            r.Read();
            triggers[i] = (triggers[i].Name, r.GetString(r.GetOrdinal("sql_mode")), r.GetString(r.GetOrdinal("SQL Original Statement")));
        }
        foreach (var tr in triggers) Exec(admin, $"DROP TRIGGER {Quote(from)}.{Quote(tr.Name)}");
        var moves = Tables(admin, from).Select(x => $"{Quote(from)}.{Quote(x)} TO {Quote(to)}.{Quote(x)}").ToList();
        if (moves.Count > 0) Exec(admin, "RENAME TABLE " + string.Join(", ", moves));
        if (triggers.Count == 0) return;
        // The statements name their tables without a database: they are run in the new one.
        Exec(admin, $"USE {Quote(to)}");
        foreach (var tr in triggers)
        {
            using (var mode = new MySqlCommand("SET SESSION sql_mode = @m", admin)) { mode.Parameters.AddWithValue("@m", tr.SqlMode); mode.ExecuteNonQuery(); }
            Exec(admin, tr.Create);
        }
        Exec(admin, "SET SESSION sql_mode = DEFAULT");
    }

    /// <summary>Moves the target's tables into <paramref name="keepAs"/> (or drops it when null); returns the kept name, or null.</summary>
    static string? SetAside(MySqlConnection admin, DatabaseTarget t, string? keepAs, IOperationLog log)
    {
        if (!Exists(admin, t.Database)) return null;
        RefuseIfInUse(admin, t);
        if (keepAs is not null)
        {
            RefuseObjectsThatCannotMove(admin, t.Database, t);
            Exec(admin, $"CREATE DATABASE {Quote(keepAs)} {Charset(admin, t.Database)}");
            MoveTables(admin, t.Database, keepAs);
            log.Verbose($"Kept the database it replaces as {keepAs}.");
        }
        Exec(admin, $"DROP DATABASE {Quote(t.Database)}");
        return keepAs;
    }

    public IReadOnlyList<string> DropUnused(DatabaseTarget server, string namePrefix, CancellationToken ct)
    {
        using var admin = Connect(server, null);
        var names = Column(admin, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(@p)) = @p AND SCHEMA_NAME NOT IN (SELECT DB FROM information_schema.PROCESSLIST WHERE DB IS NOT NULL)", ("@p", namePrefix));
        foreach (var name in names) Exec(admin, $"DROP DATABASE IF EXISTS {Quote(name)}");
        return names;
    }

    /// <summary>A count, the statement's @db being <paramref name="db"/>.</summary>
    static long Scalar(MySqlConnection admin, string sql, string db) => Convert.ToInt64(DbCommands.Scalar(admin, sql, ("@db", db)));

    const string OtherSessionsSql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()";

    static void CheckName(MySqlConnection admin, string name, string what, string where, PartRecord part)
    {
        if (System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_]{1,64}$") && Scalar(admin, $"SELECT COUNT(*) FROM {where} = @db", name) > 0) return;
        throw Errors.RepositoryCorrupt(
            $"The {what} recorded for {part.Key} ('{(name.Length > 40 ? name[..40] + "…" : name)}') is not one of the server's; nothing was changed.", part.Key);
    }

    static bool Exists(MySqlConnection admin, string db) => Scalar(admin, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @db", db) > 0;

    static void RefuseIfInUse(MySqlConnection admin, DatabaseTarget t)
    {
        var sessions = Scalar(admin, OtherSessionsSql, t.Database);
        if (sessions > 0)
            throw Errors.DatabaseInUse(t.Describe(), sessions);
    }

    static List<string> Tables(MySqlConnection c, string db) =>
        Column(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = @db AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", ("@db", db));

    static (string Charset, string Collation)? DefaultCharset(MySqlConnection c, string db)
    {
        using var cmd = new MySqlCommand("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @db", c);
        cmd.Parameters.AddWithValue("@db", db);
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetString(0), r.GetString(1)) : null;
    }

    /// <summary>The CREATE/ALTER DATABASE clause that gives a database the defaults of another.</summary>
    static string Charset(MySqlConnection admin, string db) =>
        DefaultCharset(admin, db) is var (charset, collation) ? $"CHARACTER SET {charset} COLLATE {collation}" : "";

    /// <summary>Views, routines and events stay behind when tables move: eXo's schemas have none, and a restore that would lose them is refused.</summary>
    static void RefuseObjectsThatCannotMove(MySqlConnection admin, string db, DatabaseTarget t)
    {
        var n = Scalar(admin, """
            SELECT (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = @db)
                 + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = @db)
                 + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = @db)
            """, db);
        if (n > 0)
            throw Errors.RestoreUnsupported(
                $"{db} on {t.Host}:{t.Port} holds {n} view(s), routine(s) or event(s), which MySQL cannot move to another database; nothing was replaced.", t.Describe());
    }

    public void Drop(DatabaseTarget t, CancellationToken ct)
    {
        using var admin = Connect(t, null);
        Exec(admin, $"DROP DATABASE IF EXISTS {Quote(t.Database)}");
    }

    public IReadOnlyList<TableCount> CountRows(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t, t.Database);
        try { return CountRows(c, t.Database, ct); }
        catch (MySqlException e) { throw Describe(e, t, t.Database); }
    }
}
