using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Databases;

/// <summary>One database to dump: a distinct (server, database) of the platform's datasources.</summary>
public sealed record DatabaseTarget(
    DatabaseEngine Engine,
    string Host,
    int Port,
    string Database,
    string User,
    string Password,
    IReadOnlyList<string> Datasources,
    string? Instance = null,
    string? Owner = null)
{
    /// <summary>What it is, never its password (a record's own ToString would print every member).</summary>
    public override string ToString() => Describe();

    /// <summary>eXo's own database user, who must own what a restore creates (the platform's datasource user; the connecting user when there is none).</summary>
    public string OwnerRole => string.IsNullOrEmpty(Owner) ? User : Owner;

    public string Describe() => $"{Engine} {Host}:{Port}/{Database}";

    /// <summary>Whether the server runs on this machine (and so shares its CPUs with the dump tool).</summary>
    public bool IsLocal => Host is "localhost" or "127.0.0.1" or "::1" or "[::1]"
        || Host.Equals(System.Net.Dns.GetHostName(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Datasources that share a (server, database) are dumped once.</summary>
    public static List<DatabaseTarget> From(IEnumerable<DatasourceInfo> datasources, string? user, string? password) =>
        datasources.Where(d => d.Engine is not (DatabaseEngine.Hsqldb or DatabaseEngine.Unknown))
            .GroupBy(d => d.ServerKey)
            .Select(g =>
            {
                var d = g.First();
                return new DatabaseTarget(d.Engine, d.Host ?? "localhost", d.Port ?? DefaultPort(d.Engine), d.Database ?? "",
                    user ?? d.User ?? "", password ?? d.Password ?? "", g.Select(x => x.Name).ToList(), d.Instance);
            }).ToList();

    public static int DefaultPort(DatabaseEngine e) => e switch
    {
        DatabaseEngine.PostgreSql => 5432,
        DatabaseEngine.MySql => 3306,
        DatabaseEngine.SqlServer => 1433,
        DatabaseEngine.Oracle => 1521,
        _ => 0,
    };
}

public sealed record TableCount(string Table, long Rows);

/// <summary>
/// What the pre-dump check found on the server. The exact row counts are taken on a connection of
/// their own, started at once (they take as long as a scan of every table); Tables waits for them.
/// </summary>
public sealed record DatabaseProbe(string ServerVersion, int ServerMajor, long OtherSessions, Task<IReadOnlyList<TableCount>> Counting)
{
    public IReadOnlyList<TableCount> Tables => Counting.GetAwaiter().GetResult();
    /// <summary>PostgreSQL: the WAL position.</summary>
    public string? WalLsn { get; init; }
    /// <summary>MySQL: the binary log and position, where the server keeps one.</summary>
    public string? BinlogFile { get; init; }
    public long? BinlogPosition { get; init; }
    /// <summary>MySQL: the database's default character set and collation.</summary>
    public string? Charset { get; init; }
    public string? Collation { get; init; }
}

public sealed class DumpOptions
{
    public IReadOnlyList<string> ToolPaths { get; init; } = [];
    public int Jobs { get; init; } = 1;
    /// <summary>SQL Server: a folder the server itself can write its .bak into.</summary>
    public string? ServerPath { get; init; }
}

public sealed class DatabaseRestoreOptions
{
    public IReadOnlyList<string> ToolPaths { get; init; } = [];
    public int Jobs { get; init; } = 1;
    /// <summary>Drop what is replaced instead of keeping it.</summary>
    public bool DiscardReplaced { get; init; }
    public string Stamp { get; init; } = Timestamps.NowCompact();
    /// <summary>SQL Server: MOVE every data and log file into this folder (on the server).</summary>
    public string? DataFilePath { get; init; }
}

/// <summary>
/// The result of restoring one database: the row counts of its tables as counted after the restore,
/// or null where the engine took them from the manifest instead (SQL Server).
/// </summary>
public sealed record DatabaseRestored(string Database, string? PreviousKeptAs, long Tables, long Rows, IReadOnlyList<TableCount>? Counted = null);

/// <summary>One database engine: check, dump, verify and restore with the engine's own tools.</summary>
public interface IDatabaseEngineAdapter
{
    DatabaseEngine Engine { get; }
    /// <summary>Connects with the driver: versions, other sessions, tables and row counts; clear errors for a wrong password, a missing database, an unreachable server.</summary>
    DatabaseProbe Probe(DatabaseTarget target, CancellationToken ct);
    /// <summary>Dumps into the snapshot; a failed, killed or truncated dump throws and leaves no part.</summary>
    PartRecord Dump(DatabaseTarget target, DatabaseProbe probe, SnapshotEntry snapshot, string name, DumpOptions options, IOperationLog log, CancellationToken ct);
    /// <summary>Reads the dump with the engine's tool (Test-ExoSnapshot -Level Archive).</summary>
    string VerifyArchive(SnapshotEntry snapshot, PartRecord part, IReadOnlyList<string> toolPaths, CancellationToken ct);
    /// <summary>Restores into <paramref name="target"/>, keeping a database it replaces unless told not to.</summary>
    DatabaseRestored Restore(DatabaseTarget target, SnapshotEntry snapshot, PartRecord part, DatabaseRestoreOptions options, IOperationLog log, CancellationToken ct);
    /// <summary>
    /// Whether a database restored under another name can take the target's name in a moment (Swap).
    /// Restore-ExoSnapshot then restores into a staging database and swaps it in at the end, so a
    /// failure or a kill during the long restore leaves the database in place untouched.
    /// </summary>
    bool CanSwap { get; }
    /// <summary>The longest database name the engine takes.</summary>
    int MaxNameLength { get; }
    /// <summary>Drops the databases whose names start with the prefix and that no session uses (staging databases a killed restore left); returns their names.</summary>
    IReadOnlyList<string> DropUnused(DatabaseTarget server, string namePrefix, CancellationToken ct);
    /// <summary>Puts the staged database in the target's place, keeping the one there as <paramref name="keepAs"/> (dropping it when null); returns the kept name.</summary>
    string? Swap(DatabaseTarget target, string staged, string? keepAs, IOperationLog log, CancellationToken ct);
    /// <summary>Every table and its exact row count, on a connection of its own.</summary>
    IReadOnlyList<TableCount> CountRows(DatabaseTarget target, CancellationToken ct);
    /// <summary>Drops a database (the scratch database of Test-ExoSnapshot -Level Restore).</summary>
    void Drop(DatabaseTarget target, CancellationToken ct);
}

public static class DatabaseEngines
{
    public static IDatabaseEngineAdapter For(DatabaseEngine engine) => engine switch
    {
        DatabaseEngine.PostgreSql => new PostgreSqlAdapter(),
        DatabaseEngine.MySql => new MySqlAdapter(),
        DatabaseEngine.SqlServer => new SqlServerAdapter(),
        DatabaseEngine.Oracle => throw Errors.NotSupportedOracle(engine),
        _ => throw Errors.NotSupported(engine),
    };

    /// <summary>The name a replaced database is kept under: &lt;db&gt;_pre_restore_&lt;stamp&gt;, the database cut to fit.</summary>
    public static string KeptName(string db, string stamp, int maxLength) => Suffixed(db, "_pre_restore_" + stamp.ToLowerInvariant(), maxLength);

    /// <summary>The database a restore is staged in before it is swapped in.</summary>
    public static string StagingName(string db, string stamp, int maxLength) => Suffixed(db, "_exobackup_staged_" + stamp.ToLowerInvariant(), maxLength);

    static string Suffixed(string db, string suffix, int maxLength) =>
        (db.Length + suffix.Length > maxLength ? db[..Math.Max(0, maxLength - suffix.Length)] : db) + suffix;

    /// <summary>A file-safe part name: the database, with the server when two servers hold databases of the same name.</summary>
    public static string PartName(DatabaseTarget t, IReadOnlyList<DatabaseTarget> all)
    {
        var clash = all.Count(x => x.Database.Equals(t.Database, StringComparison.OrdinalIgnoreCase)) > 1;
        var raw = clash ? $"{t.Database}-{t.Host}-{t.Port}" : t.Database;
        return new string(raw.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
    }

    /// <summary>What every database part records: where it came from, versions, positions, row counts (never the password).</summary>
    internal static void Record(PartRecord part, DatabaseTarget t, DatabaseProbe probe)
    {
        var d = part.Database;
        d.Engine = t.Engine;
        d.Host = t.Host;
        d.Port = t.Port;
        d.DatabaseName = t.Database;
        d.User = t.User;
        d.Datasources = t.Datasources;
        d.ServerVersion = probe.ServerVersion;
        d.OtherSessions = probe.OtherSessions;
        (d.WalLsn, d.BinlogFile, d.BinlogPosition, d.Charset, d.Collation) = (probe.WalLsn, probe.BinlogFile, probe.BinlogPosition, probe.Charset, probe.Collation);
        d.RowCounts = probe.Tables.ToDictionary(x => x.Table, x => x.Rows);
        part.ItemCount = probe.Tables.Count;
        part.SourceBytes = 0;
        part.StoredBytes = part.Files.Sum(f => f.Size);
    }

    /// <summary>Reports the dump's growing size while the tool runs.</summary>
    internal static IDisposable Watch(string output, string activity, IOperationLog log)
    {
        var id = 40 + Math.Abs(output.GetHashCode() % 1000);
        var started = DateTime.UtcNow;
        var timer = new Timer(_ =>
        {
            long size = File.Exists(output) ? new FileInfo(output).Length
                : Directory.Exists(output) ? Directory.EnumerateFiles(output).Sum(f => new FileInfo(f).Length) : 0;
            log.Progress(new ProgressUpdate(id, activity, $"{Units.Bytes(size)} written, {(DateTime.UtcNow - started).TotalSeconds:0} s"));
        }, null, 500, 500);
        return new Stopper(() => { timer.Dispose(); log.Progress(new ProgressUpdate(id, activity, "done", Completed: true)); });
    }

    sealed class Stopper(Action stop) : IDisposable { public void Dispose() => stop(); }

    /// <summary>Sizes and SHA-256 of the files a dump wrote, for the manifest.</summary>
    public static List<PartFile> Files(SnapshotEntry s, IEnumerable<string> paths) =>
        paths.Select(p =>
        {
            using var fs = File.OpenRead(Path.Combine(s.Path, p));
            return new PartFile { Path = p.Replace('\\', '/'), Size = fs.Length, Sha256 = Hashing.Sha256.Hex(fs) };
        }).ToList();
}
