using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Databases;

/// <summary>Backup-ExoDatabase's engine: one part per distinct (server, database) of the chosen datasources.</summary>
public static class DatabaseBackupService
{
    public const string Component = PartComponents.Database;

    /// <summary>
    /// The datasources a part would take, or the error that says why it cannot: none matches, an engine
    /// that cannot be dumped, an option the engine needs (SQL Server's folder on the server). Backup-ExoPlatform
    /// asks before it stops eXo, so that a night is not spent stopped for a part refused at once.
    /// </summary>
    public static List<DatasourceInfo> Check(PlatformInfo platform, IReadOnlyList<string> datasources, DumpOptions options)
    {
        var chosen = platform.Datasources.Where(d => datasources.Count == 0 || datasources.Contains(d.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        if (chosen.Count == 0)
            throw Errors.DatasourceNotFound(platform.Home, datasources);
        foreach (var d in chosen.Where(d => d.Engine is DatabaseEngine.Oracle or DatabaseEngine.Unknown))
            DatabaseEngines.For(d.Engine); // throws the engine's NotSupported error
        if (options.ServerPath is null && chosen.FirstOrDefault(d => d.Engine == DatabaseEngine.SqlServer) is { } sql)
            throw SqlServerAdapter.NoServerPath($"{sql.Name} ({sql.Host}/{sql.Database})");
        return chosen;
    }

    public static List<PartRecord> Backup(SnapshotRepository repo, SnapshotEntry snapshot, PlatformInfo platform, IReadOnlyList<string> datasources,
        string? user, string? password, DumpOptions options, IOperationLog log, CancellationToken ct)
    {
        var chosen = Check(platform, datasources, options);
        bool Running() => PlatformProcess.FindPid(platform) is not null;
        var parts = new List<PartRecord>();

        // HSQLDB lives in the data dir: its files are captured there, with eXo stopped.
        var hsql = chosen.Where(d => d.Engine == DatabaseEngine.Hsqldb).ToList();
        if (hsql.Count > 0)
        {
            if (Running())
                throw Errors.PlatformRunningHsqldb(platform.Home);
            parts.Add(PartRunner.Run(repo, snapshot, Running, () =>
            {
                var p = new PartRecord { Component = Component, Name = "hsqldb", Tool = "data dir", ToolVersion = "" };
                p.Database.Engine = DatabaseEngine.Hsqldb;
                p.Database.HeldIn = PartComponents.DataDir;
                p.Database.EmbeddedFiles = hsql.Select(d => d.Database ?? "").Distinct().ToList();
                p.Database.Datasources = hsql.Select(d => d.Name).ToList();
                if (!snapshot.Manifest.Parts.Any(x => x.Component == PlatformFilesBackupService.DataDir))
                    p.Warnings.Add("HSQLDB's files are in the data dir: this snapshot needs Backup-ExoDataDir too.");
                return p;
            }, log));
        }

        var targets = DatabaseTarget.From(chosen, user, password);
        foreach (var t in targets)
        {
            ct.ThrowIfCancellationRequested();
            var adapter = DatabaseEngines.For(t.Engine);
            var probe = adapter.Probe(t, ct);
            var stopped = !Running();
            if (probe.OtherSessions > 0 && stopped)
                log.Warning($"{probe.OtherSessions} other session(s) are connected to {t.Describe()} although eXo is stopped here: another cluster node, or another client, may still write to it.");
            var name = DatabaseEngines.PartName(t, targets);
            // The exact row counts scan every table. On a small machine that also runs the server,
            // beside the dump they only compete with it for the CPUs (measured on 2 cores: 0.45 s
            // beside pg_dump, 0.22 s alone), so there they are taken first.
            if (t.IsLocal && Environment.ProcessorCount <= 2) _ = probe.Tables;
            parts.Add(PartRunner.Run(repo, snapshot, Running, () =>
            {
                var p = adapter.Dump(t, probe, snapshot, name, options, log, ct);
                if (probe.OtherSessions > 0 && stopped) p.Warnings.Add($"{probe.OtherSessions} other session(s) were connected during the dump.");
                return p;
            }, log, $"the dump of {t.Describe()}"));
        }
        return parts;
    }

    /// <summary>
    /// Where a database part goes back, and as whom. Server, database and user come from the platform's
    /// own datasource (server.xml) or the parameters, never from the snapshot: a repository's writer who
    /// named another host there received the real password (finding 3.4). A recorded server that
    /// differs from the one used is reported through <paramref name="log"/>.
    /// </summary>
    public static DatabaseTarget TargetOf(PartRecord part, PlatformInfo? platform, string? server, string? database, string? user, string? password,
        IOperationLog? log = null)
    {
        var recorded = part.Database;
        if (recorded.Engine is not { } engine)
            throw Errors.RepositoryCorrupt($"The database part {part.Key} names no known engine.", part.Key);
        var names = recorded.Datasources ?? [];
        var ds = platform?.Datasources.FirstOrDefault(d => names.Contains(d.Name) && d.Engine == engine);
        string host;
        int port;
        if (server is not null)
        {
            // host, host:port, [v6]:port, or a bare IPv6 address (more than one colon, no port).
            var colon = server.LastIndexOf(':');
            (host, port) = server.StartsWith('[') && server.IndexOf(']') is var close and > 0
                ? (server[1..close], close + 2 < server.Length && int.TryParse(server[(close + 2)..], out var p6) ? p6 : DatabaseTarget.DefaultPort(engine))
                : colon > 0 && server.IndexOf(':') == colon && int.TryParse(server[(colon + 1)..], out var p) ? (server[..colon], p) : (server, DatabaseTarget.DefaultPort(engine));
        }
        else if (ds is not null) (host, port) = (ds.Host ?? "localhost", ds.Port ?? DatabaseTarget.DefaultPort(engine));
        else
            throw Errors.DatabaseTargetUnknown(
                $"The platform has no {engine} datasource {string.Join(", ", names)} to restore {recorded.DatabaseName} into: the server recorded in the snapshot is never used, as whoever can write the repository could name any.",
                part.Key);
        var from = $"{recorded.Host}:{recorded.Port}";
        if (server is null && from != $"{host}:{port}")
            log?.Warning($"{part.Key} was taken from {from}; it goes to {host}:{port}, the server of the platform's datasource (-Server chooses another).");
        return new DatabaseTarget(engine, host, port, database ?? ds?.Database ?? recorded.DatabaseName ?? "",
            user ?? ds?.User ?? "", password ?? ds?.Password ?? "", names, ds?.Instance, ds?.User);
    }

    /// <summary>A database part that holds a dump (in the snapshot, or a .bak on the SQL Server); HSQLDB's does not.</summary>
    public static bool IsRestorable(PartRecord p) =>
        p.Component == Component && (p.Database.Dump is not null || p.Database.ServerFile is not null);

    public static IReadOnlyDictionary<string, long> RowCounts(PartRecord part) => part.Database.RowCounts ?? throw part.Missing("rowCounts");

    /// <summary>The dump's name in the snapshot.</summary>
    public static string DumpOf(PartRecord part) => part.Database.Dump ?? throw part.Missing("dump");
}
