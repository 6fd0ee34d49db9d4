using ExoBackup.Engine.IO;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using Microsoft.Data.SqlClient;
using static ExoBackup.Engine.Databases.DbCommands;

namespace ExoBackup.Engine.Databases;

/// <summary>The T-SQL ExoBackup sends to SQL Server, with every name and path quoted.</summary>
public static class SqlServerTsql
{
    /// <summary>QUOTENAME: brackets, with ']' doubled.</summary>
    public static string Name(string s) => "[" + s.Replace("]", "]]") + "]";

    /// <summary>A Unicode string literal, with "'" doubled.</summary>
    public static string Literal(string s) => "N'" + s.Replace("'", "''") + "'";

    /// <summary>
    /// A full snapshot takes a COPY_ONLY backup, which leaves the DBA's own backup chain alone; a
    /// differential or incremental snapshot takes a native DIFFERENTIAL (against the last full that
    /// was not COPY_ONLY). COMPRESSION only where the edition has it.
    /// </summary>
    public static string Backup(string database, string file, SnapshotType type, bool compression) =>
        $"BACKUP DATABASE {Name(database)} TO DISK = {Literal(file)} WITH " +
        (type == SnapshotType.Full ? "COPY_ONLY" : "DIFFERENTIAL") +
        ", CHECKSUM" + (compression ? ", COMPRESSION" : "") + ", INIT, FORMAT, STATS = 10";

    public static string VerifyOnly(string file) => $"RESTORE VERIFYONLY FROM DISK = {Literal(file)} WITH CHECKSUM";

    public static string FileList(string file) => $"RESTORE FILELISTONLY FROM DISK = {Literal(file)}";

    /// <summary>RESTORE … WITH REPLACE; each logical file MOVEd when a data folder is given.</summary>
    public static string Restore(string database, string file, IReadOnlyList<(string Logical, string Physical)> moves) =>
        $"RESTORE DATABASE {Name(database)} FROM DISK = {Literal(file)} WITH REPLACE, CHECKSUM" +
        string.Concat(moves.Select(m => $", MOVE {Literal(m.Logical)} TO {Literal(m.Physical)}")) + ", STATS = 10";

    public static string Rename(string database, string newName) =>
        $"ALTER DATABASE {Name(database)} MODIFY NAME = {Name(newName)}";

    /// <summary>Editions with backup compression: all but Express and Web (SERVERPROPERTY('EngineEdition') 4 is Express).</summary>
    public const string SupportsCompression =
        "SELECT CASE WHEN CAST(SERVERPROPERTY('EngineEdition') AS int) = 4 OR CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) LIKE N'Web%' THEN 0 ELSE 1 END";
}

/// <summary>
/// SQL Server: BACKUP DATABASE written by the server itself into -ServerPath, then copied into the
/// snapshot when this machine can read that folder (else recorded as held on the server).
/// SqlCredential carries the password; it is never in a connection string.
/// </summary>
public sealed class SqlServerAdapter : IDatabaseEngineAdapter
{
    public DatabaseEngine Engine => DatabaseEngine.SqlServer;

    public static SqlConnection Connect(DatabaseTarget t, string? database = null)
    {
        var cs = new SqlConnectionStringBuilder
        {
            DataSource = t.Instance is null ? $"{t.Host},{t.Port}" : $"{t.Host}\\{t.Instance}",
            InitialCatalog = database ?? t.Database,
            ConnectTimeout = 10,
            Pooling = false,
            TrustServerCertificate = true,
            ApplicationName = "ExoBackup",
        };
        var secure = new System.Security.SecureString();
        foreach (var ch in t.Password) secure.AppendChar(ch);
        secure.MakeReadOnly();
        var c = new SqlConnection(cs.ConnectionString, new SqlCredential(t.User, secure));
        try { c.Open(); }
        catch (SqlException e)
        {
            c.Dispose();
            // A login that never opened: refused credentials, a missing database, or no server at all.
            throw e.Number is 18456 or 4060 ? Describe(e, t)
                : Errors.DatabaseUnreachable($"Cannot connect to SQL Server {t.Host}: {e.Message}", t.Describe(), e, "over TCP, which SQL Server must accept");
        }
        return c;
    }

    static ExoBackupException Describe(SqlException e, DatabaseTarget t) => e.Number switch
    {
        18456 => Errors.DatabaseAuthenticationFailed($"SQL Server {t.Host} refused login '{t.User}'.", t.Describe(), e),
        4060 => Errors.DatabaseNotFound($"SQL Server {t.Host} has no database '{t.Database}' (or the login may not open it).", t.Describe(), e),
        3201 or 5 => Errors.ServerPathDenied($"SQL Server cannot write the backup file: {e.Message}", t.Describe(), e),
        _ => Errors.DatabaseError($"SQL Server {t.Host}: {e.Message}", t.Describe(), e),
    };

    public DatabaseProbe Probe(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t);
        var version = Scalar(c, "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))")?.ToString() ?? "";
        var sessions = Convert.ToInt64(Scalar(c, "SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE database_id = DB_ID() AND session_id <> @@SPID"));
        var counts = new List<TableCount>();
        using (var cmd = new SqlCommand("SELECT s.name + '.' + t.name, SUM(p.rows) FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id JOIN sys.partitions p ON p.object_id = t.object_id AND p.index_id IN (0, 1) GROUP BY s.name, t.name ORDER BY 1", c))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) counts.Add(new TableCount(r.GetString(0), r.GetInt64(1)));
        var major = int.TryParse(version.Split('.')[0], out var m) ? m : 0;
        return new DatabaseProbe(version, major, sessions, Task.FromResult<IReadOnlyList<TableCount>>(counts));
    }

    /// <summary>SQL Server writes its backup file itself, on its own machine: without a folder there, nothing can be taken.</summary>
    internal static ExoBackupException NoServerPath(string target) => Errors.ServerPathRequired(target);

    public PartRecord Dump(DatabaseTarget t, DatabaseProbe probe, SnapshotEntry s, string name, DumpOptions o, IOperationLog log, CancellationToken ct)
    {
        var serverPath = o.ServerPath ?? throw NoServerPath(t.Describe());
        var file = Path.Combine(serverPath, $"{name}-{s.Id}.bak");
        using var c = Connect(t);
        var compression = Convert.ToInt32(Scalar(c, SqlServerTsql.SupportsCompression)) == 1;
        var type = s.Manifest.Type;
        using (var cmd = new SqlCommand(SqlServerTsql.Backup(t.Database, file, type, compression), c) { CommandTimeout = 0 })
        {
            c.InfoMessage += (_, e) => log.Progress(new ProgressUpdate(60, $"BACKUP DATABASE {t.Database}", e.Message));
            try { cmd.ExecuteNonQuery(); }
            catch (SqlException e) { throw Describe(e, t); }
        }
        var part = new PartRecord { Component = "Database", Name = name, Tool = "BACKUP DATABASE", ToolVersion = probe.ServerVersion };
        part.Database.Format = "bak";
        part.Database.BackupType = type == SnapshotType.Full ? "COPY_ONLY full" : "DIFFERENTIAL";
        part.Database.ServerFile = file;
        if (File.Exists(file))
        {
            var rel = $"db/{name}.bak";
            PrivateFiles.CreateDirectory(Path.Combine(s.Path, "db"));
            using (var source = File.OpenRead(file))
            using (var copy = PrivateFiles.OpenWrite(Path.Combine(s.Path, rel), FileMode.CreateNew, 1 << 20))
            {
                source.CopyTo(copy);
                copy.Flush(true);
            }
            part.Database.Dump = rel;
            part.Files = DatabaseEngines.Files(s, [rel]);
        }
        else
        {
            part.Warnings.Add($"The backup file {file} is on the SQL Server machine and was not copied into the snapshot; keep it with the snapshot.");
        }
        DatabaseEngines.Record(part, t, probe);
        return part;
    }

    public string VerifyArchive(SnapshotEntry s, PartRecord part, IReadOnlyList<string> toolPaths, CancellationToken ct) =>
        throw Errors.NeedsServer(part.Name);

    public DatabaseRestored Restore(DatabaseTarget t, SnapshotEntry s, PartRecord part, DatabaseRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        var file = part.Database.ServerFile ?? throw new InvalidDataException("the part names no backup file");
        using var c = Connect(t, "master");
        void Exec(string sql) { try { DbCommands.Exec(c, sql, timeoutSeconds: 0); } catch (SqlException e) { throw Describe(e, t); } }
        Exec(SqlServerTsql.VerifyOnly(file));
        string? kept = null;
        if (Convert.ToInt32(Scalar(c, "SELECT COUNT(*) FROM sys.databases WHERE name = @n", ("@n", t.Database))) > 0 && !o.DiscardReplaced)
        {
            kept = DatabaseEngines.KeptName(t.Database, o.Stamp, MaxNameLength);
            Exec(SqlServerTsql.Rename(t.Database, kept));
        }
        var moves = new List<(string Logical, string Physical)>();
        if (o.DataFilePath is not null)
        {
            // The server's own folder syntax: keep the separator of the path it gave.
            using var list = new SqlCommand(SqlServerTsql.FileList(file), c);
            using var r = list.ExecuteReader();
            while (r.Read())
            {
                var physical = r.GetString(r.GetOrdinal("PhysicalName"));
                var name = physical[(physical.LastIndexOfAny(['/', '\\']) + 1)..];
                var sep = o.DataFilePath.Contains('\\') ? "\\" : "/";
                moves.Add((r.GetString(r.GetOrdinal("LogicalName")), o.DataFilePath.TrimEnd('/', '\\') + sep + (kept is null ? name : t.Database + "_" + name)));
            }
        }
        Exec(SqlServerTsql.Restore(t.Database, file, moves));
        var expected = DatabaseBackupService.RowCounts(part);
        return new DatabaseRestored(t.Database, kept, expected.Count, expected.Values.Sum());
    }

    // A staged restore would need every data and log file moved to new names on the server; SQL
    // Server restores in place instead (the database it replaces is renamed first).
    public bool CanSwap => false;
    public int MaxNameLength => 128;
    public string? Swap(DatabaseTarget target, string staged, string? keepAs, IOperationLog log, CancellationToken ct) =>
        throw new NotSupportedException("SQL Server restores in place.");
    public IReadOnlyList<string> DropUnused(DatabaseTarget server, string namePrefix, CancellationToken ct) => [];

    public IReadOnlyList<TableCount> CountRows(DatabaseTarget t, CancellationToken ct) => Probe(t, ct).Tables;

    public void Drop(DatabaseTarget t, CancellationToken ct)
    {
        using var c = Connect(t, "master");
        Exec(c, $"IF DB_ID({SqlServerTsql.Literal(t.Database)}) IS NOT NULL DROP DATABASE {SqlServerTsql.Name(t.Database)}");
    }
}
