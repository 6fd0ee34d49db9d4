using System.Diagnostics;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;

using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Runbook;

public sealed class PlatformBackupRequest
{
    public required IReadOnlyList<PlatformInfo> Platforms { get; init; }
    public required string Repository { get; init; }
    public SnapshotType Type { get; init; } = SnapshotType.Full;
    public bool StopPlatform { get; init; }
    public bool NoRestart { get; init; }
    public bool AllowOnline { get; init; }
    public bool BreakStaleLock { get; init; }
    public IReadOnlySet<string> Components { get; init; } = new HashSet<string> { PlatformFilesBackupService.DataDir, PlatformFilesBackupService.Configuration, DatabaseBackupService.Component, ChatBackupService.Component };
    public DataDirOptions DataDir { get; init; } = new();
    public CompressionKind Compression { get; init; } = CompressionKind.Zstd;
    public string? DatabaseUser { get; init; }
    public string? DatabasePassword { get; init; }
    public DumpOptions Dump { get; init; } = new();
    public ChatMethod ChatMethod { get; init; } = ChatMethod.Auto;
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public bool ForceStop { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(600);
    /// <summary>The account eXo is started again as (the bundle's owner when null; see BundleAccount).</summary>
    public string? RunAs { get; init; }
    /// <summary>The datasources of the database part (all when empty), as Backup-ExoDatabase -Datasource.</summary>
    public IReadOnlyList<string> Datasources { get; init; } = [];
    /// <summary>Chat where the bundle's settings do not say (or say otherwise), as Backup-ExoChat -ConnectionString, and its account.</summary>
    public string? ChatConnectionString { get; init; }
    public string? ChatUser { get; init; }
    public string? ChatPassword { get; init; }
}

public sealed record PlatformBackupResult(SnapshotEntry Snapshot, TimeSpan? Downtime, TimeSpan Elapsed);

/// <summary>
/// Backup-ExoPlatform's engine: the whole runbook. Stops every platform given (cluster nodes, in
/// parallel), opens a snapshot, takes the data dir, the configuration, every database and chat at
/// the same time, starts eXo again as soon as the parts are taken (also when one failed, or on
/// Ctrl+C), then completes the snapshot with the downtime recorded. A failed part abandons the
/// snapshot: no part of it looks complete. The first platform is the one backed up; the others are
/// stopped and started with it.
/// </summary>
public static class PlatformBackup
{
    /// <summary>A request that makes no sense, or that a part would refuse at once, is refused before anything stops.</summary>
    public static void Validate(PlatformBackupRequest r)
    {
        if (r.NoRestart && !r.StopPlatform)
            throw Errors.InvalidParameterCombinationNoRestart();
        if (r.Platforms.Count > 1) RequireOneCluster(r.Platforms);
        // What a part would refuse at once is refused here, before eXo stops (and -WhatIf says so).
        if (r.Components.Contains(DatabaseBackupService.Component) && (r.Platforms[0].Datasources.Count > 0 || r.Datasources.Count > 0))
            DatabaseBackupService.Check(r.Platforms[0], r.Datasources, r.Dump);
    }

    /// <summary>
    /// Several platforms are backed up as one only when they are the nodes of one cluster: the same SQL
    /// databases, the same chat database, the same shared JCR values and files folders. The first node's
    /// parts are the cluster's; the others are only stopped and started with it.
    /// </summary>
    static void RequireOneCluster(IReadOnlyList<PlatformInfo> nodes)
    {
        static string Shared(PlatformInfo p) =>
            $"databases {string.Join(", ", p.Datasources.Where(d => d.Engine is not (DatabaseEngine.Hsqldb or DatabaseEngine.Unknown)).Select(d => d.ServerKey).Distinct().Order(StringComparer.Ordinal))}; " +
            $"chat {(p.Chat is null ? "none" : $"{string.Join(',', p.Chat.Hosts.Order(StringComparer.Ordinal))}/{p.Chat.Database}")}; " +
            $"JCR values {Path.GetFullPath(p.Data.JcrValues)}; files {Path.GetFullPath(p.Data.Files)}";
        var first = nodes[0];
        var expected = Shared(first);
        var embedded = !first.Datasources.Any(d => d.Engine is not (DatabaseEngine.Hsqldb or DatabaseEngine.Unknown));
        var other = nodes.Skip(1).FirstOrDefault(n => Shared(n) != expected);
        if (embedded || other is not null)
            throw Errors.NotOneCluster(
                embedded
                    ? $"{first.Home} keeps its database inside its own data dir (HSQLDB): it cannot share it with {string.Join(", ", nodes.Skip(1).Select(n => n.Home))}, so they are not nodes of one cluster. Nothing was stopped."
                    : $"{first.Home} and {other!.Home} are not nodes of one cluster: {first.Home} has {expected}, {other.Home} has {Shared(other)}. Nothing was stopped.",
                first.Home);
    }

    /// <summary>What a run would do, in one sentence (-WhatIf and -Confirm show it); a request that makes no sense is refused here, before anything stops.</summary>
    public static string Plan(PlatformBackupRequest r)
    {
        Validate(r);
        var main = r.Platforms[0];
        var c = r.Components;
        string? databases = c.Contains(DatabaseBackupService.Component)
            ? string.Join(", ", DatabaseTarget.From(main.Datasources, null, null).Select(t => t.Describe())
                .DefaultIfEmpty(main.Datasources.Any(d => d.Engine == DatabaseEngine.Hsqldb) ? "HSQLDB (in the data dir)" : "no database"))
            : null;
        var what = new[]
        {
            c.Contains(PlatformFilesBackupService.DataDir) ? $"data dir {main.Data.DataDir}" : null,
            c.Contains(PlatformFilesBackupService.Configuration) ? $"configuration {main.ConfDir}" : null,
            databases,
            c.Contains(ChatBackupService.Component) && main.Chat is not null ? $"chat {string.Join(',', main.Chat.Hosts)}/{main.Chat.Database}" : null,
        }.OfType<string>();
        var type = r.Type switch { SnapshotType.Differential => "Differential", SnapshotType.Incremental => "Incremental", _ => "Full" };
        return $"{type} snapshot into {r.Repository}: {string.Join(", ", what)}"
            + (r.StopPlatform ? $"; eXo stopped{(r.Platforms.Count > 1 ? $" on {r.Platforms.Count} nodes" : "")} meanwhile{(r.NoRestart ? " and left stopped" : " and started again")}" : "");
    }

    public static PlatformBackupResult Run(PlatformBackupRequest r, IOperationLog log, CancellationToken ct)
    {
        Validate(r);
        var total = Stopwatch.StartNew();
        var main = r.Platforms[0];
        var running = r.Platforms.Where(p => { PlatformProcess.Refresh(p); return p.IsRunning; }).ToList();
        if (running.Count > 0 && !r.StopPlatform && !r.AllowOnline)
            throw Errors.PlatformRunningBackup(
                $"eXo runs at {string.Join(", ", running.Select(p => $"{p.Home} (PID {p.Pid})"))}; a backup taken now would not be consistent.", main.Home);
        // Who eXo will be started again as, checked before it is stopped: a refusal then costs no downtime.
        if (r.StopPlatform && !r.NoRestart) foreach (var p in running) BundleAccount.Resolve(p, r.RunAs);
        var repo = SnapshotRepository.Open(r.Repository, create: true);
        Stopwatch? down = null;
        var stopped = new List<PlatformInfo>();
        SnapshotEntry? open = null;
        try
        {
            // The lock first: when another backup holds the repository, eXo is never stopped for nothing.
            open = repo.Begin(r.Type, main, r.BreakStaleLock, log);
            if (r.StopPlatform && running.Count > 0)
            {
                down = Stopwatch.StartNew();
                log.Progress(new ProgressUpdate(1, "Backup-ExoPlatform", $"stopping {running.Count} platform(s)", 2));
                var results = PlatformProcess.StopAll(running, r.StopTimeout, r.ForceStop, log, ct);
                stopped.AddRange(results.Where(x => x.Error is null).Select(x => x.Platform));
                if (results.FirstOrDefault(x => x.Error is not null)?.Error is { } error) throw error;
            }
            log.Progress(new ProgressUpdate(1, "Backup-ExoPlatform", $"taking the parts of {open.Id}", 5));
            RunParts(repo, open, main, r, log, ct);
        }
        catch (Exception e)
        {
            if (open is not null) { try { repo.RemovePartial(open.Id); } catch (IOException) { } }
            Restart(stopped, r, log);
            if (e is OperationCanceledException && ct.IsCancellationRequested)
                throw new OperationCanceledException(
                    $"snapshot {open?.Id ?? "(not opened yet)"} was abandoned and removed{(stopped.Count > 0 && !r.NoRestart ? ", and eXo was started again" : "")}; the repository holds what it held before.", e, ct);
            throw;
        }
        Restart(stopped, r, log);
        var downtime = down?.Elapsed;
        if (downtime is not null) down!.Stop();
        log.Progress(new ProgressUpdate(1, "Backup-ExoPlatform", "completing the snapshot", 95));
        SnapshotEntry done;
        try { done = repo.Complete(open.Id, r.AllowOnline, log, downtime); }
        catch (ExoBackupException)
        {
            // Refused (a file changed while read, so not Offline) or failed: nothing of this run may
            // stay behind, or the next unattended run would find its lock and its .partial folder.
            try { repo.RemovePartial(open.Id); } catch (IOException) { }
            throw;
        }
        log.Progress(new ProgressUpdate(1, "Backup-ExoPlatform", "done", Completed: true));
        return new PlatformBackupResult(done, downtime, total.Elapsed);
    }

    /// <summary>Every part at once, each on its own thread; the first failure cancels the others.</summary>
    static void RunParts(SnapshotRepository repo, SnapshotEntry open, PlatformInfo p, PlatformBackupRequest r, IOperationLog log, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = linked.Token;
        bool Running() => PlatformProcess.FindPid(p) is not null;
        var work = new List<(string Name, Action Run)>();
        if (r.Components.Contains(PlatformFilesBackupService.DataDir))
            work.Add(("data dir", () => PartRunner.Run(repo, open, Running, () => PlatformFilesBackupService.BackupDataDir(repo, open, p,
                r.DataDir with { Tree = r.DataDir.Tree with { Compression = r.Compression, ProgressId = 11, ParentProgressId = 1 } }, log, token), log)));
        if (r.Components.Contains(PlatformFilesBackupService.Configuration))
            work.Add(("configuration", () => PartRunner.Run(repo, open, Running, () => PlatformFilesBackupService.BackupConfiguration(open, p,
                new TreeBackupOptions { Compression = r.Compression, ProgressId = 12, ParentProgressId = 1 }, log, token), log)));
        if (r.Components.Contains(DatabaseBackupService.Component) && p.Datasources.Count > 0)
            work.Add(("databases", () => DatabaseBackupService.Backup(repo, open, p, r.Datasources, r.DatabaseUser, r.DatabasePassword, r.Dump, log, token)));
        if (r.Components.Contains(ChatBackupService.Component) && (p.Chat is not null || r.ChatConnectionString is not null))
            work.Add(("chat", () => PartRunner.Run(repo, open, Running, () => ChatBackupService.Backup(open,
                ChatTarget.Resolve(p, r.ChatConnectionString, null, null, r.ChatUser, r.ChatPassword), r.ChatMethod, r.Dump.ToolPaths, log, token), log)));
        // The runbook's bar moves with its parts' bars: 5 % when they start, 90 % when all are done.
        log = new ParentProgress(log, 1, "Backup-ExoPlatform", $"taking the parts of {open.Id}", 5, 90);
        // With -AllowOnline, one warning for all the parts instead of one from each.
        if (Running())
        {
            log.Warning($"eXo is running (-AllowOnline): {string.Join(", ", work.Select(w => "the " + w.Name))} are taken while it writes: the snapshot will be Online, not consistent.");
            log = new WithoutWarning(log, PartRunner.RunningWarning);
        }
        var failures = new List<Exception>();
        var tasks = work.Select(w => Task.Run(() =>
        {
            try { w.Run(); }
            catch (Exception e)
            {
                lock (failures) failures.Add(e);
                linked.Cancel();
            }
        })).ToArray();
        Task.WaitAll(tasks);
        ct.ThrowIfCancellationRequested();
        var first = failures.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.FirstOrDefault();
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
    }

    /// <summary>Forwards every message, and after each child bar's update moves the parent bar to the children's mean, between two percentages.</summary>
    sealed class ParentProgress(IOperationLog inner, int parentId, string activity, string status, int from, int to) : IOperationLog
    {
        readonly Dictionary<int, int> _children = new();
        public void Verbose(string message) => inner.Verbose(message);
        public void Warning(string message) => inner.Warning(message);
        public void Progress(ProgressUpdate update)
        {
            inner.Progress(update);
            if (update.ParentActivityId != parentId) return;
            int mean;
            lock (_children)
            {
                _children[update.ActivityId] = update.Completed ? 100 : Math.Max(0, update.PercentComplete);
                mean = (int)_children.Values.Average();
            }
            inner.Progress(new ProgressUpdate(parentId, activity, status, from + (to - from) * mean / 100));
        }
    }

    /// <summary>A log that drops the warnings starting with a text (already said once for all).</summary>
    sealed class WithoutWarning(IOperationLog inner, string prefix) : IOperationLog
    {
        public void Verbose(string message) => inner.Verbose(message);
        public void Warning(string message) { if (!message.StartsWith(prefix, StringComparison.Ordinal)) inner.Warning(message); }
        public void Progress(ProgressUpdate update) => inner.Progress(update);
    }

    /// <summary>Starts what this backup stopped, one node after another, whatever happened; never cancelled.</summary>
    static void Restart(List<PlatformInfo> stopped, PlatformBackupRequest r, IOperationLog log)
    {
        if (r.NoRestart || stopped.Count == 0) return;
        foreach (var p in stopped)
        {
            try
            {
                log.Progress(new ProgressUpdate(1, "Backup-ExoPlatform", $"starting eXo at {p.Home}", 90));
                PlatformProcess.Start(p, wait: true, r.StartTimeout, log, CancellationToken.None, r.RunAs);
            }
            catch (ExoBackupException e)
            {
                log.Warning($"eXo at {p.Home} could not be started again: {e.Message} Start it by hand: Start-ExoPlatform {p.Home}");
            }
        }
    }
}
