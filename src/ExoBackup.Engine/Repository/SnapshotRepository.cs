using ExoBackup.Engine.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Repository;

/// <summary>A snapshot as listed: its manifest (or what is known of an unfinished one) and where it is.</summary>
public sealed record SnapshotEntry(string Id, string Path, SnapshotStatus Status, SnapshotManifest Manifest, string? Problem = null);

/// <summary>
/// The snapshot repository (DESIGN §4): a marker file, one folder per snapshot, written under
/// &lt;id&gt;.partial and renamed into place only when complete, so a crash never leaves a snapshot
/// that looks usable. Folders are 0700 and files 0600: they hold server.xml and the codec key.
/// </summary>
public sealed partial class SnapshotRepository
{
    public const string MarkerFile = "exobackup-repository.json";
    public const string PartialSuffix = ".partial";
    const string RemovingSuffix = ".removing" + PartialSuffix;
    const string StateFile = "snapshot.json";
    const string PartsDir = "parts";

    SnapshotRepository(string path) => Root = path;

    public string Root { get; }


    public static SnapshotRepository Open(string path, bool create)
    {
        var root = System.IO.Path.GetFullPath(path);
        var marker = System.IO.Path.Combine(root, MarkerFile);
        if (File.Exists(marker))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(marker));
                var v = doc.RootElement.GetProperty("formatVersion").GetInt32();
                if (v != 1)
                    throw new ExoBackupException("ExoBackup.RepositoryVersion", ErrorKind.InvalidData,
                        $"The repository '{root}' has format version {v}; this ExoBackup reads version 1.", root, "Use the ExoBackup version that wrote it.");
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new ExoBackupException("ExoBackup.RepositoryCorrupt", ErrorKind.InvalidData,
                    $"'{marker}' is damaged: {e.Message}", marker, "Restore the marker from a copy, or write {\"formatVersion\":1} into it.", e);
            }
            return new SnapshotRepository(root);
        }
        if (!create)
            throw new ExoBackupException("ExoBackup.RepositoryNotFound", ErrorKind.ObjectNotFound,
                $"'{root}' is not an ExoBackup repository (no {MarkerFile}).", root, "Check the path, or create the repository with New-ExoSnapshot.");
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new ExoBackupException("ExoBackup.RepositoryNotEmpty", ErrorKind.InvalidArgument,
                $"'{root}' is not empty and is not an ExoBackup repository; a repository needs a folder of its own.", root, "Give an empty or new folder.");
        PrivateFiles.CreateDirectory(root);
        WriteAllTextDurable(marker, JsonSerializer.Serialize(new { formatVersion = 1, created = DateTimeOffset.UtcNow, tool = "ExoBackup" }, SnapshotManifest.Json));
        return new SnapshotRepository(root);
    }

    public string SnapshotPath(string id) => System.IO.Path.Combine(Root, id);
    public string PartialPath(string id) => System.IO.Path.Combine(Root, id + PartialSuffix);

    /// <summary>Every snapshot, oldest first; unfinished ones only when asked.</summary>
    public IReadOnlyList<SnapshotEntry> List(bool includeIncomplete = false)
    {
        var list = new List<SnapshotEntry>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (name.EndsWith(RemovingSuffix, StringComparison.Ordinal))
            {
                // A removal killed after its rename: listed as unfinished, so Remove-ExoSnapshot can end it.
                var removed = name[..^RemovingSuffix.Length];
                if (!includeIncomplete || !SnapshotId.IsValid(removed)) continue;
                var old = ReadComplete(removed, dir).Manifest;
                list.Add(new SnapshotEntry(removed, dir, SnapshotStatus.InProgress, old, "its removal was interrupted; Remove-ExoSnapshot ends it"));
                continue;
            }
            if (name.EndsWith(PartialSuffix, StringComparison.Ordinal))
            {
                if (!includeIncomplete) continue;
                var id = name[..^PartialSuffix.Length];
                if (!SnapshotId.IsValid(id)) continue;
                SnapshotManifest m;
                try { m = JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(System.IO.Path.Combine(dir, StateFile)), SnapshotManifest.Json) ?? new(); }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { m = new SnapshotManifest { Id = id }; }
                var (parts, damaged) = ReadParts(dir);
                m.Parts = parts;
                list.Add(new SnapshotEntry(id, dir, SnapshotStatus.InProgress, m,
                    damaged.Count > 0 ? $"part record(s) {string.Join(", ", damaged)} cannot be read" : null));
                continue;
            }
            if (!SnapshotId.IsValid(name)) continue;
            list.Add(ReadComplete(name, dir));
        }
        return list.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    static SnapshotEntry ReadComplete(string id, string dir)
    {
        var file = System.IO.Path.Combine(dir, "manifest.json");
        try
        {
            var m = JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(file), SnapshotManifest.Json)
                    ?? throw new JsonException("empty manifest");
            if (m.Id != id) return new SnapshotEntry(id, dir, SnapshotStatus.Damaged, m, $"manifest.json names snapshot '{m.Id}'");
            return new SnapshotEntry(id, dir, SnapshotStatus.Complete, m);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            return new SnapshotEntry(id, dir, SnapshotStatus.Damaged, new SnapshotManifest { Id = id }, $"manifest.json cannot be read: {e.Message}");
        }
    }

    public SnapshotEntry Get(string id, bool includeIncomplete = true) =>
        List(includeIncomplete).FirstOrDefault(s => s.Id == id)
        ?? throw new ExoBackupException("ExoBackup.SnapshotNotFound", ErrorKind.ObjectNotFound,
            $"No snapshot '{id}' in the repository '{Root}'.", id, "List the snapshots with Get-ExoSnapshot.");

    /// <summary>Snapshots from this one back to its full; a missing or damaged link is reported in Broken.</summary>
    public (IReadOnlyList<SnapshotEntry> Chain, string? Broken) Chain(string id)
    {
        var all = List().ToDictionary(s => s.Id);
        var chain = new List<SnapshotEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = id;
        while (true)
        {
            // A manifest naming itself, or a descendant, as parent (damage, a hand edit, a writer of the repository).
            if (!seen.Add(current))
                return (chain, $"{chain[^1].Id} names {current} as its parent, which loops back into its own chain");
            if (!all.TryGetValue(current, out var s))
                return (chain, chain.Count == 0 ? $"snapshot {current} is not complete" : $"{chain[^1].Id} depends on {current}, which is missing");
            if (s.Status != SnapshotStatus.Complete)
                return (chain, $"{current} is damaged: {s.Problem}");
            chain.Add(s);
            if (s.Manifest.Type == SnapshotType.Full) return (chain, null);
            if (s.Manifest.Parent is null) return (chain, $"{current} is {s.Manifest.Type} but names no parent");
            current = s.Manifest.Parent;
        }
    }

    /// <summary>Opens a snapshot: takes the lock, picks the parent, creates &lt;id&gt;.partial.</summary>
    public SnapshotEntry Begin(SnapshotType type, PlatformInfo platform, bool breakStaleLock, IOperationLog log)
    {
        var existing = List(includeIncomplete: true);
        var complete = existing.Where(s => s.Status == SnapshotStatus.Complete && s.Manifest.Platform.Home == platform.Home).ToList();
        string? parent = null;
        if (type != SnapshotType.Full)
        {
            var candidates = type == SnapshotType.Differential ? complete.Where(s => s.Manifest.Type == SnapshotType.Full) : complete;
            parent = candidates.LastOrDefault()?.Id;
            if (parent is null)
            {
                log.Warning($"There is no complete {(type == SnapshotType.Differential ? "full " : "")}snapshot of {platform.Home} in {Root} to build a {type.ToString().ToLowerInvariant()} snapshot on; taking a full snapshot instead.");
                type = SnapshotType.Full;
            }
        }
        var id = SnapshotId.New(type, DateTimeOffset.UtcNow, existing.Select(s => s.Id));
        Lock(id, breakStaleLock, log);
        try
        {
            var dir = PartialPath(id);
            PrivateFiles.CreateDirectory(dir);
            var m = new SnapshotManifest
            {
                Id = id,
                Type = type,
                Parent = parent,
                Created = DateTimeOffset.UtcNow,
                Host = Environment.MachineName,
                User = Environment.UserName,
                Tool = "ExoBackup " + typeof(SnapshotRepository).Assembly.GetName().Version?.ToString(3),
                Platform = new PlatformRecord
                {
                    Home = platform.Home, ProductName = platform.ProductName, Version = platform.Version,
                    DataDir = platform.Data.DataDir, ConfDir = platform.ConfDir,
                },
            };
            WriteAllTextDurable(System.IO.Path.Combine(dir, StateFile), JsonSerializer.Serialize(m, SnapshotManifest.Json));
            log.Verbose($"Opened snapshot {id} ({type}{(parent is null ? "" : ", parent " + parent)}) in {Root}.");
            return new SnapshotEntry(id, dir, SnapshotStatus.InProgress, m);
        }
        catch
        {
            RepositoryLock.Release(Root, id);
            throw;
        }
    }

    void Lock(string id, bool breakStale, IOperationLog log)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (RepositoryLock.TryAcquire(Root, RepositoryLock.Current(id))) return;
            var owner = RepositoryLock.Read(Root);
            if (owner is null) continue; // released meanwhile
            if (RepositoryLock.IsStale(owner))
            {
                // A lock of this host whose process is gone cannot be anybody's: the next night goes on by
                // itself. Another host's (stale by age) or an unreadable one needs -Force.
                if (!breakStale && !RepositoryLock.IsLeftByDeadLocalProcess(owner))
                    throw new ExoBackupException("ExoBackup.RepositoryLockStale", ErrorKind.ResourceBusy,
                        $"The repository '{Root}' is locked by a process that no longer runs ({RepositoryLock.Describe(owner)}).", Root,
                        "Make sure no backup runs there, then use New-ExoSnapshot -Force (or Backup-ExoPlatform -Force) to break the stale lock; its unfinished snapshot stays as .partial until Remove-ExoSnapshot -IncompleteOlderThan removes it.");
                log.Warning($"Breaking the stale lock of {RepositoryLock.Describe(owner)}: that process is gone. Its unfinished snapshot stays as .partial until Remove-ExoSnapshot -IncompleteOlderThan removes it.");
                RepositoryLock.BreakIfStill(Root, owner);
                continue;
            }
            if (RepositoryLock.IsMine(owner))
            {
                if (!breakStale)
                    throw new ExoBackupException("ExoBackup.SnapshotStillOpen", ErrorKind.ResourceBusy,
                        $"Snapshot {owner.Snapshot} is still open in this session.", Root,
                        "Complete it with Complete-ExoSnapshot, or abandon it with Remove-ExoSnapshot, or use New-ExoSnapshot -Force to abandon it.");
                log.Warning($"Abandoning snapshot {owner.Snapshot}, still open in this session.");
                RemovePartial(owner.Snapshot);
                RepositoryLock.BreakIfStill(Root, owner);
                continue;
            }
            throw new ExoBackupException("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy,
                $"The repository '{Root}' is being written by {RepositoryLock.Describe(owner)}.", Root,
                "Wait until that backup ends. If you are sure no backup runs, remove the lock file " + System.IO.Path.Combine(Root, RepositoryLock.FileName) + ".");
        }
        throw new ExoBackupException("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy, $"Could not lock the repository '{Root}'.", Root, "Try again.");
    }

    /// <summary>A snapshot open for writing; parts write their files into it.</summary>
    public SnapshotEntry GetOpen(string id)
    {
        var dir = PartialPath(id);
        if (!Directory.Exists(dir))
        {
            if (Directory.Exists(SnapshotPath(id)))
                throw new ExoBackupException("ExoBackup.SnapshotComplete", ErrorKind.InvalidOperation,
                    $"Snapshot {id} is already complete; it cannot take more parts.", id, "Open a new snapshot with New-ExoSnapshot.");
            throw new ExoBackupException("ExoBackup.SnapshotNotFound", ErrorKind.ObjectNotFound,
                $"No open snapshot '{id}' in '{Root}'.", id, "Open one with New-ExoSnapshot.");
        }
        return Get(id);
    }

    public static FileStream CreateFile(string path)
    {
        PrivateFiles.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return PrivateFiles.OpenWrite(path, FileMode.Create, 1 << 16);
    }

    public void RecordPart(SnapshotEntry snapshot, PartRecord part)
    {
        var dir = System.IO.Path.Combine(snapshot.Path, PartsDir);
        PrivateFiles.CreateDirectory(dir);
        WriteAllTextDurable(System.IO.Path.Combine(dir, part.Key + ".json"), JsonSerializer.Serialize(part, SnapshotManifest.Json));
    }

    /// <summary>The part records of an open snapshot, and the names of those that cannot be read (never silently left out).</summary>
    static (List<PartRecord> Parts, List<string> Damaged) ReadParts(string dir)
    {
        var parts = new List<PartRecord>();
        var damaged = new List<string>();
        var pd = System.IO.Path.Combine(dir, PartsDir);
        if (!Directory.Exists(pd)) return (parts, damaged);
        foreach (var f in Directory.EnumerateFiles(pd, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (JsonSerializer.Deserialize<PartRecord>(File.ReadAllText(f), SnapshotManifest.Json) is { } p) parts.Add(p);
                else damaged.Add(System.IO.Path.GetFileName(f));
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { damaged.Add(System.IO.Path.GetFileName(f)); }
        }
        return (parts, damaged);
    }

    /// <summary>Seals a snapshot: manifest.json, SHA256SUMS, fsync, rename into place, release the lock.</summary>
    public SnapshotEntry Complete(string id, bool allowOnline, IOperationLog log, TimeSpan? downtime = null)
    {
        var open = GetOpen(id);
        var owner = RepositoryLock.Read(Root);
        if (owner is not null && owner.Snapshot != id)
            throw new ExoBackupException("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy,
                $"The repository is locked for another snapshot ({RepositoryLock.Describe(owner)}); {id} cannot be completed now.", id,
                "Complete or remove the snapshot that holds the lock first.");
        if (owner is not null && !RepositoryLock.IsMine(owner) && !RepositoryLock.IsStale(owner))
            throw new ExoBackupException("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy,
                $"Snapshot {id} is being written by {RepositoryLock.Describe(owner)}.", id, "Let that process complete it.");
        var m = open.Manifest;
        if (open.Problem is not null)
            throw new ExoBackupException("ExoBackup.RepositoryCorrupt", ErrorKind.InvalidData,
                $"Snapshot {id} cannot be completed: {open.Problem}.", id,
                "Take the snapshot again (Remove-ExoSnapshot -Id this one, then a new backup): a part it names may be missing or damaged.");
        if (m.Parts.Count == 0)
            throw new ExoBackupException("ExoBackup.SnapshotEmpty", ErrorKind.InvalidOperation,
                $"Snapshot {id} has no parts yet.", id, "Back up at least one part (Backup-ExoDataDir, Backup-ExoConfiguration, …) before completing it.");
        var online = m.Parts.Where(p => p.PlatformRunningAtStart || p.PlatformRunningAtEnd || p.ChangedWhileRead.Count > 0).ToList();
        if (online.Count > 0 && !allowOnline)
            throw new ExoBackupException("ExoBackup.SnapshotOnline", ErrorKind.InvalidOperation,
                $"Snapshot {id} is not consistent: {string.Join("; ", online.Select(p => p.Key + (p.ChangedWhileRead.Count > 0 ? $" saw {p.ChangedWhileRead.Count} file(s) change while read" : " was taken while eXo ran")))}.",
                id, "Stop eXo and take the parts again, or accept an online snapshot with Complete-ExoSnapshot -AllowOnline.");
        m.Consistency = online.Count > 0 ? Consistency.Online : Consistency.Offline;
        m.Completed = DateTimeOffset.UtcNow;
        m.Downtime = downtime;

        var dir = open.Path;
        AtomicFiles.SyncTree(dir); // every dump and chat file on disk before the manifest says complete
        File.Delete(System.IO.Path.Combine(dir, StateFile));
        var parts = System.IO.Path.Combine(dir, PartsDir);
        WriteAllTextDurable(System.IO.Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(m, SnapshotManifest.Json));
        TreeDeleter.Delete(parts);
        WriteSha256Sums(dir, m.Parts.SelectMany(p => p.Files).ToDictionary(f => f.Path, f => f.Sha256));
        SyncDirectory(dir);
        var final = SnapshotPath(id);
        Directory.Move(dir, final);
        SyncDirectory(Root);
        RepositoryLock.Release(Root, id);
        log.Verbose($"Completed snapshot {id} ({m.Consistency}).");
        if (m.Parts.Sum(p => p.Skipped.Count) is var skipped and > 0)
            log.Warning($"Snapshot {id} lacks {skipped} item(s) its parts skipped (unreadable, or neither file, folder nor link): see SkippedItems and each part's Skipped.");
        return ReadComplete(id, final);
    }

    /// <summary>
    /// SHA256SUMS in the format `sha256sum -c` reads: "&lt;hex&gt;  &lt;path&gt;". The parts' files keep the
    /// hash computed as they were written (reading them again would double the cost of a backup).
    /// </summary>
    static void WriteSha256Sums(string dir, IReadOnlyDictionary<string, string> known)
    {
        var sb = new StringBuilder();
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                     .Select(f => System.IO.Path.GetRelativePath(dir, f).Replace('\\', '/'))
                     .Where(f => f != "SHA256SUMS").Order(StringComparer.Ordinal))
        {
            if (!known.TryGetValue(f, out var hash))
            {
                using var fs = File.OpenRead(System.IO.Path.Combine(dir, f));
                hash = Convert.ToHexString(SHA256.HashData(fs)).ToLowerInvariant();
            }
            sb.Append(hash).Append("  ").Append(f).Append('\n');
        }
        WriteAllTextDurable(System.IO.Path.Combine(dir, "SHA256SUMS"), sb.ToString());
    }

    /// <summary>Removes an unfinished snapshot, or ends an interrupted removal of a complete one.</summary>
    public void RemovePartial(string id)
    {
        foreach (var dir in new[] { PartialPath(id), System.IO.Path.Combine(Root, id + RemovingSuffix) })
            TreeDeleter.Delete(dir); // through handles: a repository may be writable by others
        SyncDirectory(Root);
        RepositoryLock.Release(Root, id);
    }

    /// <summary>Removes a complete snapshot: renamed to .partial first, so a crash midway never leaves a half snapshot that looks complete.</summary>
    public void RemoveComplete(string id)
    {
        var dir = SnapshotPath(id);
        var doomed = System.IO.Path.Combine(Root, id + RemovingSuffix);
        Directory.Move(dir, doomed);
        SyncDirectory(Root);
        TreeDeleter.Delete(doomed);
    }

    /// <summary>
    /// Writes a file whole or not at all: a 0600 temporary file beside it, fsynced, renamed over the
    /// name, then the folder fsynced. A kill or power cut leaves the old file or the new one, never a torn one.
    /// </summary>
    public static void WriteAllTextDurable(string path, string text)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var fs = CreateFile(temp))
            {
                fs.Write(new UTF8Encoding(false).GetBytes(text));
                fs.Flush(true);
            }
            AtomicFiles.Rename(temp, path);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
        AtomicFiles.SyncDirectory(System.IO.Path.GetDirectoryName(path)!);
    }

    /// <summary>fsync a folder so a rename in it survives a power cut (Linux; a no-op elsewhere).</summary>
    public static void SyncDirectory(string path) => AtomicFiles.SyncDirectory(path);
}
