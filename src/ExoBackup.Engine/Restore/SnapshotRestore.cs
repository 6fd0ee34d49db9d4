using ExoBackup.Engine.IO;
using System.Diagnostics;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Restore;

public sealed class RestoreRequest
{
    public required PlatformInfo Platform { get; init; }
    /// <summary>Restore the data dir here instead of the platform's own.</summary>
    public string? DataDir { get; init; }
    public IReadOnlyList<string> PathFilter { get; init; } = [];
    public bool DiscardReplaced { get; init; }
    /// <summary>Trees: apply the index's owners and special mode bits as they are (see TreeRestoreOptions).</summary>
    public bool KeepOwners { get; init; }
    public bool KeepSpecialModes { get; init; }
    public string Stamp { get; init; } = Timestamps.NowCompact();
    /// <summary>Databases: restore onto this server (host[:port]) and under this name instead.</summary>
    public string? Server { get; init; }
    public string? Database { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
    public IReadOnlyList<string> ToolPaths { get; init; } = [];
    public int Jobs { get; init; } = 1;
    /// <summary>SQL Server: the server folder for the restored data and log files.</summary>
    public string? DataFilePath { get; init; }
    /// <summary>Chat: restore under this database name, and with this method.</summary>
    public string? ChatDatabase { get; init; }
    public Chat.ChatMethod ChatMethod { get; init; } = Chat.ChatMethod.Auto;
}

/// <summary>What one restored target holds now: files and bytes of a tree; tables and rows of a database; collections and documents of chat.</summary>
public sealed record ComponentRestoreResult(string Component, string Target, string? PreviousKeptAt, long Items, string ItemKind, long Bytes, long Records, TimeSpan Duration);

/// <summary>
/// One restorable component of a snapshot. Databases and chat plug in here through their own issues.
/// A restore is two-phase: every component is staged first (nothing in place changes), then all
/// are committed, so a damaged archive of one component leaves every target as it was.
/// </summary>
public interface IComponentRestorer
{
    string Component { get; }
    /// <summary>What a restore would do, for -WhatIf and -Confirm.</summary>
    string Describe(SnapshotEntry snapshot, RestoreRequest request);
    IStagedRestore Stage(SnapshotRepository repo, SnapshotEntry snapshot, RestoreRequest request, IOperationLog log, CancellationToken ct);
}

/// <summary>A staged component: Commit puts it in place; Dispose without Commit removes what was staged.</summary>
public interface IStagedRestore : IDisposable
{
    IReadOnlyList<ComponentRestoreResult> Commit(IOperationLog log);
}

/// <summary>A file-tree component (data dir, configuration): staged restore and swap through TreeRestore.</summary>
public sealed class TreeComponentRestorer(string component) : IComponentRestorer
{
    public string Component => component;

    public string Describe(SnapshotEntry snapshot, RestoreRequest r)
    {
        var roots = snapshot.Manifest.Parts.First(p => p.Component == component);
        var target = component == PlatformFilesBackupService.DataDir ? r.DataDir ?? r.Platform.Data.DataDir : r.Platform.ConfDir + " and the bundle's configuration files";
        return r.PathFilter.Count > 0
            ? $"Restore the files of {component} matching {string.Join(", ", r.PathFilter)} into {target}, keeping the files replaced"
            : $"Replace {target} with the {component} of {snapshot.Id} ({roots.ItemCount:N0} items){(r.DiscardReplaced ? ", deleting what it replaces" : ", keeping what it replaces as *.pre-restore-" + r.Stamp)}";
    }

    public IStagedRestore Stage(SnapshotRepository repo, SnapshotEntry snapshot, RestoreRequest r, IOperationLog log, CancellationToken ct)
    {
        if (component == PlatformFilesBackupService.Configuration) WarnOnCodecChange(snapshot, r.Platform, log);
        if (snapshot.Manifest.Parts.FirstOrDefault(p => p.Component == component) is { Skipped.Count: > 0 } part)
            log.Warning($"The {component} of {snapshot.Id} lacks {part.Skipped.Count} item(s) skipped when it was taken, e.g. {part.Skipped[0]}: the restored tree will not have them.");
        var watch = Stopwatch.StartNew();
        var staged = TreeRestore.Stage(repo, snapshot, component, new TreeRestoreOptions
        {
            TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, r.Platform, r.DataDir),
            PathFilter = r.PathFilter,
            DiscardReplaced = r.DiscardReplaced,
            KeepOwners = r.KeepOwners,
            KeepSpecialModes = r.KeepSpecialModes,
            SettingsOwnerUid = FileStatReader.IsRoot ? FileStatReader.Get(r.Platform.Home).Uid : null,
            NamedByOperator = t => r.DataDir is { } named && (t == Path.GetFullPath(named) || t.StartsWith(Path.GetFullPath(named) + Path.DirectorySeparatorChar, StringComparison.Ordinal)),
            Stamp = r.Stamp,
        }, log, ct);
        return new Staged(component, staged, watch);
    }

    sealed class Staged(string component, TreeRestore.StagedTree tree, Stopwatch watch) : IStagedRestore
    {
        public IReadOnlyList<ComponentRestoreResult> Commit(IOperationLog log) =>
            tree.Commit(log).Select(x => new ComponentRestoreResult(component, x.Target, x.PreviousKeptAt, x.Files, "files", x.Bytes, 0, watch.Elapsed)).ToList();

        public void Dispose() => tree.Dispose();
    }

    static void WarnOnCodecChange(SnapshotEntry snapshot, PlatformInfo p, IOperationLog log)
    {
        var part = snapshot.Manifest.Parts.First(x => x.Component == PlatformFilesBackupService.Configuration);
        if (part.Tree.CodecKeySha256 is not { } saved || !File.Exists(p.CodecKeyFile)) return;
        if (PlatformFilesBackupService.CodecKeyHash(p.CodecKeyFile) != saved)
            log.Warning($"The codec key in {snapshot.Id} differs from the one in {p.CodecDir}. eXo encrypts secrets in its database " +
                        "(passwords, remember-me tokens, wallet keys, connector secrets) with this key: after the restore, only a database " +
                        "taken together with this snapshot can be read, and eXo refuses to start (CodecKeyChangedException) with any other. Restore the databases from the same snapshot.");
    }
}

/// <summary>Restore-ExoSnapshot's engine: refuses while eXo runs, verifies the chain, then restores each component.</summary>
public static class SnapshotRestore
{
    public static readonly IReadOnlyDictionary<string, IComponentRestorer> Restorers = new Dictionary<string, IComponentRestorer>
    {
        [PlatformFilesBackupService.DataDir] = new TreeComponentRestorer(PlatformFilesBackupService.DataDir),
        [PlatformFilesBackupService.Configuration] = new TreeComponentRestorer(PlatformFilesBackupService.Configuration),
        [Databases.DatabaseBackupService.Component] = new DatabaseRestorer(),
        [Chat.ChatBackupService.Component] = new ChatRestorer(),
    };

    /// <summary>Commit order: databases first (the only step that can fail after staging), then the file trees (renames).</summary>
    static int Order(string component) => component switch { "Database" => 0, "Chat" => 1, "DataDir" => 2, _ => 3 };

    /// <summary>The components to restore: those asked for (all the snapshot holds when none), each of which it must hold.</summary>
    public static List<IComponentRestorer> Select(SnapshotEntry snapshot, IReadOnlyList<string> components)
    {
        var held = snapshot.Manifest.Parts.Where(p => p.Component != Databases.DatabaseBackupService.Component || Databases.DatabaseBackupService.IsRestorable(p))
            .Select(p => p.Component).Distinct().Where(Restorers.ContainsKey).ToList();
        var wanted = components.Count == 0 ? held : components.ToList();
        foreach (var c in wanted.Where(c => !held.Contains(c)))
            throw Errors.PartNotFound(snapshot.Id, c, held);
        return wanted.OrderBy(Order).Select(c => Restorers[c]).ToList();
    }

    /// <summary>Refuses while eXo runs, verifies, stages every component, then commits them all.</summary>
    public static List<ComponentRestoreResult> Run(SnapshotRepository repo, SnapshotEntry snapshot, IReadOnlyList<IComponentRestorer> restorers,
        RestoreRequest request, IOperationLog log, CancellationToken ct)
    {
        RequireStopped(request.Platform);
        if (!string.Equals(Path.GetFullPath(snapshot.Manifest.Platform.Home), Path.GetFullPath(request.Platform.Home), StringComparison.Ordinal))
            log.Warning($"Snapshot {snapshot.Id} was taken of {snapshot.Manifest.Platform.Home}; it is restored into {request.Platform.Home}.");
        RequireVerified(repo, snapshot, restorers, log, ct);
        var staged = new List<IStagedRestore>();
        try
        {
            foreach (var r in restorers) staged.Add(r.Stage(repo, snapshot, request, log, ct));
            ct.ThrowIfCancellationRequested();
            RequireStopped(request.Platform); // eXo may have been started meanwhile
            return staged.SelectMany(s => s.Commit(log)).ToList();
        }
        catch (OperationCanceledException e) when (ct.IsCancellationRequested)
        {
            // Commits are never cancelled: a cancellation here came before the first one.
            throw new OperationCanceledException("nothing was replaced: the restore was still staging, and what it had staged is removed.", e, ct);
        }
        finally
        {
            foreach (var s in staged) s.Dispose();
        }
    }

    public static void RequireStopped(PlatformInfo p)
    {
        PlatformProcess.Refresh(p);
        if (p.IsRunning)
            throw Errors.PlatformRunning(p.Home, p.Pid);
    }

    public static void RequireVerified(SnapshotRepository repo, SnapshotEntry snapshot, IReadOnlyList<IComponentRestorer> restoring, IOperationLog log, CancellationToken ct)
    {
        var (_, broken) = repo.Chain(snapshot.Id);
        if (broken is not null)
            throw Errors.ChainBroken($"Snapshot {snapshot.Id} cannot be restored, nothing was touched: {broken}.", snapshot.Id);
        // Tree archives are hashed while they are extracted into the staging folder (TreeRestore), so
        // they are read once; everything else is checked here, before anything is written.
        // Only the archives this restore reads; every other file is hashed now.
        var streamed = restoring.OfType<TreeComponentRestorer>().Select(r => r.Component).ToHashSet();
        var archives = repo.Chain(snapshot.Id).Chain
            .SelectMany(s => s.Manifest.Parts.Where(p => streamed.Contains(p.Component) && p.IsTree && p.Tree.Archive is not null).Select(p => p.Tree.Archive!))
            .ToHashSet(StringComparer.Ordinal);
        var failed = SnapshotVerifier.Verify(repo, snapshot.Id, VerifyLevel.Checksum, log, ct, archives.Contains).Where(f => !f.Passed).ToList();
        if (failed.Count > 0)
            throw Errors.ChecksumMismatch(
                $"Snapshot {snapshot.Id} failed verification, nothing was restored: {string.Join("; ", failed.Take(5).Select(f => f.Message))}{(failed.Count > 5 ? "; …" : "")}", snapshot.Id);
    }
}
