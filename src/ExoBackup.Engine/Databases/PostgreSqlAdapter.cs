using ExoBackup.Engine.IO;
using System.Text.RegularExpressions;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using Npgsql;
using static ExoBackup.Engine.Databases.DbCommands;

namespace ExoBackup.Engine.Databases;

/// <summary>
/// PostgreSQL with its own tools: pg_dump -Fc (or -Fd -j N), pg_restore. The password reaches them
/// only through a 0600 PGPASSFILE; PGPASSWORD is removed from their environment.
/// </summary>
public sealed class PostgreSqlAdapter : IDatabaseEngineAdapter
{
    public DatabaseEngine Engine => DatabaseEngine.PostgreSql;

    static NpgsqlConnection Connect(DatabaseTarget t, string? database = null)
    {
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = t.Host, Port = t.Port, Database = database ?? t.Database, Username = t.User, Password = t.Password,
            Timeout = 10, Pooling = false, ApplicationName = "ExoBackup",
        };
        var c = new NpgsqlConnection(cs.ConnectionString);
        try { c.Open(); }
        catch (Exception e) { c.Dispose(); throw Describe(e, t, database ?? t.Database); }
        return c;
    }

    /// <summary>Turns driver errors into messages that say what is wrong, never echoing the password.</summary>
    static ExoBackupException Describe(Exception e, DatabaseTarget t, string database) => e switch
    {
        PostgresException { SqlState: "28P01" or "28000" } =>
            Errors.DatabaseAuthenticationFailed(
                $"PostgreSQL at {t.Host}:{t.Port} refused user '{t.User}' for database '{database}': {((PostgresException)e).MessageText}", t.Describe(), e),
        PostgresException { SqlState: "3D000" } =>
            Errors.DatabaseNotFound($"PostgreSQL at {t.Host}:{t.Port} has no database '{database}'.", t.Describe(), e),
        PostgresException pe =>
            Errors.DatabaseError($"PostgreSQL at {t.Host}:{t.Port}: {pe.MessageText} ({pe.SqlState})", t.Describe(), e),
        _ =>
            Errors.DatabaseUnreachable($"Cannot connect to PostgreSQL at {t.Host}:{t.Port}: {e.GetBaseException().Message}", t.Describe(), e,
                "pg_hba.conf, firewall"),
    };

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public DatabaseProbe Probe(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t);
        string Text(string sql) => Scalar(c, sql)?.ToString() ?? "";
        var version = Text("SHOW server_version");
        var major = int.Parse(Text("SHOW server_version_num")) / 10000;
        var sessions = long.Parse(Text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"));
        string lsn;
        try { lsn = Text("SELECT pg_current_wal_lsn()::text"); }
        catch (PostgresException) { lsn = Text("SELECT coalesce(pg_last_wal_replay_lsn()::text, '')"); }
        return new DatabaseProbe(version, major, sessions, Task.Run(() => CountRows(t, ct), ct)) { WalLsn = lsn };
    }

    static List<TableCount> CountRows(NpgsqlConnection c, CancellationToken ct)
    {
        var tables = new List<(string Schema, string Name)>();
        using (var cmd = new NpgsqlCommand("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2", c))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) tables.Add((r.GetString(0), r.GetString(1)));
        var counts = new List<TableCount>();
        foreach (var (schema, name) in tables)
        {
            ct.ThrowIfCancellationRequested();
            counts.Add(new TableCount($"{schema}.{name}", Convert.ToInt64(Scalar(c, $"SELECT count(*) FROM {Quote(schema)}.{Quote(name)}"))));
        }
        return counts;
    }

    /// <summary>
    /// The database for --dbname as a conninfo string: a bare name holding '=' (or starting with
    /// postgresql://) would be read as one, with whatever parameters it names.
    /// </summary>
    internal static string DbNameConnInfo(DatabaseTarget t) =>
        $"dbname='{OptionFileValue.Checked(t.Database, "database name", t.Describe()).Replace("\\", "\\\\").Replace("'", "\\'")}'";

    /// <summary>A pgpass line: host:port:database:user:password, with ':' and '\' escaped, control characters refused.</summary>
    internal static string PgPassLine(DatabaseTarget t, string database)
    {
        string E(string s, string what) => OptionFileValue.Checked(s, what, t.Describe()).Replace("\\", "\\\\").Replace(":", "\\:");
        return $"{E(t.Host, "host")}:{t.Port}:{E(database, "database name")}:{E(t.User, "user")}:{E(t.Password, "password")}\n";
    }

    static Dictionary<string, string?> Environment(SecretFile pass) => new()
    {
        ["PGPASSFILE"] = pass.Path,
        ["PGPASSWORD"] = null,
        ["PGCONNECT_TIMEOUT"] = "10",
        ["PGAPPNAME"] = "ExoBackup",
    };

    static List<string> ConnectionArgs(DatabaseTarget t) => ["--no-password", "--host", t.Host, "--port", t.Port.ToString(), "--username", t.User];

    ExternalTool Tool(IReadOnlyList<string> toolPaths, string name, int? serverMajor, CancellationToken ct) => Tool(toolPaths, name, serverMajor, ct, out _);

    ExternalTool Tool(IReadOnlyList<string> toolPaths, string name, int? serverMajor, CancellationToken ct, out Version? version)
    {
        var tool = ExternalTool.Find(toolPaths, serverMajor is int m ? $"postgresql-client-{m}" : "postgresql-client", name);
        version = null;
        if (serverMajor is int major)
        {
            var v = version = tool.ReadVersion(ct);
            if (v is null || v.Major < major)
                throw Errors.ToolTooOld(tool.Path, v, major);
        }
        return tool;
    }

    public PartRecord Dump(DatabaseTarget t, DatabaseProbe probe, SnapshotEntry s, string name, DumpOptions o, IOperationLog log, CancellationToken ct)
    {
        var tool = Tool(o.ToolPaths, "pg_dump", probe.ServerMajor, ct, out var toolVersion);
        PrivateFiles.CreateDirectory(Path.Combine(s.Path, "db"));
        var directory = o.Jobs > 1;
        var rel = directory ? $"db/{name}.dir" : $"db/{name}.dump";
        var output = Path.Combine(s.Path, rel);
        var args = ConnectionArgs(t);
        args.AddRange(directory ? ["--format=directory", "--jobs", o.Jobs.ToString()] : ["--format=custom"]);
        args.AddRange(["--file", output, "--dbname", DbNameConnInfo(t)]);
        using (var pass = new SecretFile("pgpass", PgPassLine(t, t.Database)))
        using (DatabaseEngines.Watch(output, $"Dumping {t.Describe()} with pg_dump", log))
        {
            var code = tool.Run(args, Environment(pass), null, null, ct, out var stderr);
            if (code != 0) throw tool.Failed(code, stderr, t.Password);
        }
        // pg_dump creates its files with the caller's umask: private before they are hashed and recorded.
        PrivateFiles.Restrict(output);
        // A dump that exited 0 but is empty or cut short is not a backup.
        var files = directory ? Directory.GetFiles(output).Select(f => Path.GetRelativePath(s.Path, f)).Order(StringComparer.Ordinal).ToList() : [rel];
        if (files.Count == 0 || files.Sum(f => new FileInfo(Path.Combine(s.Path, f)).Length) == 0)
            throw Errors.DumpIncomplete($"pg_dump of {t.Describe()} wrote nothing.", t.Describe(), "pg_dump");
        var part = new PartRecord { Component = "Database", Name = name, Tool = "pg_dump", ToolVersion = toolVersion?.ToString() ?? "" };
        part.Database.Format = directory ? "directory" : "custom";
        part.Database.Dump = rel;
        // A custom archive is walked block by block to its last byte; a directory one (or a version
        // the walker does not know) is read whole by pg_restore.
        var listed = directory ? null : WalkCustomArchive(output, t);
        if (listed is not null) log.Verbose($"{rel}: every data block walked to the end of the file ({listed.Count} tables with data).");
        listed ??= ListTableData(output, rel, o.ToolPaths, ct);
        var missing = probe.Tables.Select(x => x.Table).Where(x => !listed.Contains(x)).ToList();
        if (missing.Count > 0)
            throw Errors.DumpIncomplete($"The dump of {t.Describe()} lacks the data of {missing.Count} table(s), e.g. {missing[0]}.", t.Describe(), "pg_dump");
        part.Files = DatabaseEngines.Files(s, files);
        DatabaseEngines.Record(part, t, probe);
        return part;
    }

    /// <summary>The custom archive's structure walked to its last byte (PgCustomArchive); null where only pg_restore can tell.</summary>
    static HashSet<string>? WalkCustomArchive(string path, DatabaseTarget t)
    {
        try { return PgCustomArchive.ReadTableData(path); }
        catch (InvalidDataException e)
        {
            throw Errors.DumpIncomplete($"The dump of {t.Describe()} is not whole: {e.Message}.", t.Describe(), "pg_dump", e);
        }
    }

    /// <summary>
    /// "schema.table" of every TABLE DATA entry of the dump's table of contents (pg_restore --list),
    /// after pg_restore has read the whole dump into a script it throws away: the table of contents
    /// alone sits at the start, and a dump cut short still lists it.
    /// </summary>
    /// <param name="rel">The dump's name in the snapshot, as shown in errors.</param>
    HashSet<string> ListTableData(string path, string rel, IReadOnlyList<string> toolPaths, CancellationToken ct)
    {
        var tool = Tool(toolPaths, "pg_restore", null, ct);
        var whole = tool.Run(["--file", OperatingSystem.IsWindows() ? "NUL" : "/dev/null", path], null, ct, check: false);
        var r = whole.ExitCode == 0 ? tool.Run(["--list", path], null, ct, check: false) : whole;
        if (r.ExitCode != 0)
            throw Errors.DumpIncompleteUnreadable(rel, r.StandardError.Trim());
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(r.StandardOutput, @"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ", RegexOptions.Multiline))
            set.Add($"{m.Groups[1].Value}.{m.Groups[2].Value}");
        return set;
    }

    public string VerifyArchive(SnapshotEntry s, PartRecord part, IReadOnlyList<string> toolPaths, CancellationToken ct)
    {
        HashSet<string> listed;
        var name = DatabaseBackupService.DumpOf(part);
        using (var dump = s.LocalCopy(name)) listed = ListTableData(dump.Path, name, toolPaths, ct);
        var expected = DatabaseBackupService.RowCounts(part);
        var missing = expected.Keys.Where(k => !listed.Contains(k)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"the dump lacks the data of {missing.Count} table(s), e.g. {missing[0]}");
        return $"pg_restore --list reads the dump: data of {listed.Count} table(s)";
    }

    public DatabaseRestored Restore(DatabaseTarget t, SnapshotEntry s, PartRecord part, DatabaseRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        var tool = Tool(o.ToolPaths, "pg_restore", null, ct);
        var dumpName = DatabaseBackupService.DumpOf(part); // before anything changes
        var owner = OptionFileValue.CheckedArgument(t.OwnerRole, "database owner", t.Describe());
        string? kept;
        using (var admin = Connect(t, "postgres"))
        {
            CheckRestoreRights(admin, t, owner);
            kept = SetAside(admin, t, o.DiscardReplaced ? null : DatabaseEngines.KeptName(t.Database, o.Stamp, MaxNameLength), log);
            // eXo's user owns the database, whoever restores it (an admin -Credential included).
            Exec(admin, $"CREATE DATABASE {Quote(t.Database)}{(owner == t.User ? "" : " OWNER " + Quote(owner))}");
        }
        var args = ConnectionArgs(t);
        args.AddRange(["--dbname", DbNameConnInfo(t), "--exit-on-error"]);
        if (o.Jobs > 1) args.AddRange(["--jobs", o.Jobs.ToString()]);
        // Ownership and grants name the roles of the source server; restoring as another user, skip
        // them, and create every object as eXo's user (SET ROLE), so that it owns and can write them.
        if (part.Database.User != t.User || owner != t.User) args.AddRange(["--no-owner", "--no-privileges"]);
        if (owner != t.User) args.Add("--role=" + owner);
        using var dump = s.LocalCopy(dumpName);
        args.AddRange(["--", dump.Path]);
        try
        {
            using var pass = new SecretFile("pgpass", PgPassLine(t, t.Database));
            using (DatabaseEngines.Watch(dump.Path, $"Restoring {t.Describe()} with pg_restore", log))
            {
                var code = tool.Run(args, Environment(pass), null, null, ct, out var stderr);
                if (code != 0) throw tool.Failed(code, stderr, t.Password);
            }
        }
        catch
        {
            // Put back what was there: the half-restored database goes, the kept one returns.
            using var admin = Connect(t, "postgres");
            Exec(admin, $"DROP DATABASE IF EXISTS {Quote(t.Database)}");
            if (kept is not null) Exec(admin, $"ALTER DATABASE {Quote(kept)} RENAME TO {Quote(t.Database)}");
            throw;
        }
        var counts = CountRows(t, ct);
        return new DatabaseRestored(t.Database, kept, counts.Count, counts.Sum(x => x.Rows), counts);
    }

    public bool CanSwap => true;
    public int MaxNameLength => 63; // bytes; the names here are ASCII

    /// <summary>Two renames in a moment: the database in place is set aside (or dropped), the staged one takes its name.</summary>
    public string? Swap(DatabaseTarget t, string staged, string? keepAs, IOperationLog log, CancellationToken ct)
    {
        using var admin = Connect(t, "postgres");
        var kept = SetAside(admin, t, keepAs, log);
        try { Exec(admin, $"ALTER DATABASE {Quote(staged)} RENAME TO {Quote(t.Database)}"); }
        catch when (kept is not null)
        {
            Exec(admin, $"ALTER DATABASE {Quote(kept)} RENAME TO {Quote(t.Database)}");
            throw;
        }
        return kept;
    }

    public IReadOnlyList<string> DropUnused(DatabaseTarget server, string namePrefix, CancellationToken ct)
    {
        using var admin = Connect(server, "postgres");
        var names = Column(admin, "SELECT datname FROM pg_database WHERE left(datname, length(@p)) = @p AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)", ("@p", namePrefix));
        foreach (var name in names) Exec(admin, $"DROP DATABASE IF EXISTS {Quote(name)}");
        return names;
    }

    /// <summary>
    /// A staged restore creates a database and renames databases: CREATEDB, and, to create objects as
    /// eXo's user, membership of its role. Checked before anything changes, so that a restore as eXo's
    /// own least-privileged user stops with what to give instead of a raw permission error (finding 6.1).
    /// </summary>
    static void CheckRestoreRights(NpgsqlConnection admin, DatabaseTarget t, string owner)
    {
        using var cmd = new NpgsqlCommand(
            "SELECT r.rolsuper, r.rolcreatedb, (SELECT count(*) FROM pg_roles WHERE rolname = @o) > 0, " +
            "CASE WHEN (SELECT count(*) FROM pg_roles WHERE rolname = @o) > 0 THEN pg_has_role(current_user, @o, 'MEMBER') ELSE false END " +
            "FROM pg_roles r WHERE r.rolname = current_user", admin);
        cmd.Parameters.AddWithValue("o", owner);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return;
        var (super, createdb, ownerExists, member) = (r.GetBoolean(0), r.GetBoolean(1), r.GetBoolean(2), r.GetBoolean(3));
        if (super) return;
        string? missing = !createdb ? "CREATEDB (a restore is staged in a database of its own, then renamed into place)"
            : !ownerExists ? $"a role '{owner}' (eXo's database user, who must own what is restored)"
            : !member ? $"membership of the role '{owner}' (to create what is restored as eXo's user)" : null;
        if (missing is null) return;
        throw Errors.InsufficientPrivilegePostgreSql(t.User, t.Describe(), missing, owner);
    }

    /// <summary>
    /// Moves the database named by the target out of the way: renamed to <paramref name="keepAs"/>,
    /// or dropped when that is null. Refused while sessions use it. Returns the kept name, or null
    /// when nothing was there or it was dropped.
    /// </summary>
    static string? SetAside(NpgsqlConnection admin, DatabaseTarget t, string? keepAs, IOperationLog log)
    {
        using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @n", admin))
        {
            exists.Parameters.AddWithValue("n", t.Database);
            if (exists.ExecuteScalar() is null) return null;
        }
        using (var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @n", admin))
        {
            cmd.Parameters.AddWithValue("n", t.Database);
            var n = Convert.ToInt64(cmd.ExecuteScalar());
            if (n > 0)
                throw Errors.DatabaseInUse(t.Describe(), n);
        }
        if (keepAs is null)
        {
            Exec(admin, $"DROP DATABASE {Quote(t.Database)}");
            return null;
        }
        Exec(admin, $"ALTER DATABASE {Quote(t.Database)} RENAME TO {Quote(keepAs)}");
        log.Verbose($"Kept the database it replaces as {keepAs}.");
        return keepAs;
    }

    public void Drop(DatabaseTarget t, CancellationToken ct)
    {
        using var admin = Connect(t, "postgres");
        Exec(admin, $"DROP DATABASE IF EXISTS {Quote(t.Database)}");
    }

    public IReadOnlyList<TableCount> CountRows(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t);
        try { return CountRows(c, ct); }
        catch (NpgsqlException e) { throw Describe(e, t, t.Database); }
    }
}
