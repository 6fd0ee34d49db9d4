using ExoBackup.Engine.Hashing;
using ExoBackup.Engine.IO;
using ExoBackup.Engine.Storage;
using System.Text;
using System.Text.Json;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Repository;

/// <summary>
/// A snapshot as listed: its manifest (or what is known of an unfinished one), where it is (a local
/// folder, or the storage's location and the folder's name), and the storage that holds its files.
/// </summary>
public sealed record SnapshotEntry(string Id, string Path, SnapshotStatus Status, SnapshotManifest Manifest, string? Problem = null)
{
    /// <summary>The storage that holds it; an entry made from a local path alone is in the folder that holds that path.</summary>
    public IRepositoryStorage Storage
    {
        get => _storage ??= new LocalFolderStorage(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        init => _storage = value;
    }
    IRepositoryStorage? _storage;

    /// <summary>The snapshot's folder in <see cref="Storage"/>: &lt;id&gt;, or &lt;id&gt;.partial while it is open.</summary>
    public string Folder
    {
        get => _folder ??= System.IO.Path.GetFileName(System.IO.Path.GetFullPath(Path));
        init => _folder = value;
    }
    string? _folder;

    /// <summary>Reads one of the snapshot's files (a name as its part records it, such as datadir.tar.zst).</summary>
    public Stream OpenRead(string file) => Storage.Load(StorageNames.Join(Folder, file));

    /// <summary>One of the snapshot's files or folders as a local path, for tools that take paths.</summary>
    public LocalCopy LocalCopy(string file) => Storage.Materialize(StorageNames.Join(Folder, file));
}

/// <summary>
/// The snapshot repository (DESIGN §4): a marker file, one folder per snapshot, written under
/// &lt;id&gt;.partial and published under &lt;id&gt; only when complete, so a crash never leaves a snapshot
/// that looks usable. Every file it keeps goes through its <see cref="IRepositoryStorage"/>.
/// </summary>
public sealed partial class SnapshotRepository
{
    public const string MarkerFile = "exobackup-repository.json";
    public const string PartialSuffix = ".partial";
    const string RemovingSuffix = ".removing" + PartialSuffix;
    const string StateFile = "snapshot.json";
    const string PartsDir = "parts";
    const string ManifestFile = "manifest.json";
    const string SumsFile = "SHA256SUMS";

    SnapshotRepository(IRepositoryStorage storage) => Storage = storage;

    public IRepositoryStorage Storage { get; }

    /// <summary>Where the repository is, as shown in messages and on snapshot objects.</summary>
    public string Root => Storage.Location;

    /// <summary>The repository in a local folder (a path), created when asked.</summary>
    public static SnapshotRepository Open(string path, bool create) => Open(new LocalFolderStorage(path), create);

    public static SnapshotRepository Open(IRepositoryStorage storage, bool create)
    {
        var root = storage.Location;
        if (storage is LocalFolderStorage { Root: var folder } && File.Exists(folder))
            throw Errors.RepositoryNotFoundFile(root);
        if (storage.Stat(MarkerFile) is { IsFolder: false })
        {
            try
            {
                using var doc = JsonDocument.Parse(ReadText(storage, MarkerFile));
                var v = doc.RootElement.GetProperty("formatVersion").GetInt32();
                if (v != 1)
                    throw Errors.RepositoryVersion(root, v);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                var marker = StorageNames.Join(root, MarkerFile);
                throw Errors.RepositoryCorruptMarker(marker, e);
            }
            return new SnapshotRepository(storage);
        }
        if (!create)
            throw Errors.RepositoryNotFound(root, MarkerFile);
        if (storage.List("").Count > 0)
            throw Errors.RepositoryNotEmpty(root);
        storage.StagingFolder("", create: true);
        SaveText(storage, MarkerFile, JsonSerializer.Serialize(new { formatVersion = 1, created = DateTimeOffset.UtcNow, tool = "ExoBackup" }, SnapshotManifest.Json));
        return new SnapshotRepository(storage);
    }

    static string ReadText(IRepositoryStorage storage, string name)
    {
        using var reader = new StreamReader(storage.Load(name), new UTF8Encoding(false));
        return reader.ReadToEnd();
    }

    static void SaveText(IRepositoryStorage storage, string name, string text) => storage.Save(name, new UTF8Encoding(false).GetBytes(text));

    /// <summary>A local path for a folder or file of the repository (its location joined with the name), for messages and local writers.</summary>
    string Shown(string name) => Storage is LocalFolderStorage local ? local.PathOf(name) : StorageNames.Join(Root, name);

    public string SnapshotPath(string id) => Shown(id);
    public string PartialPath(string id) => Shown(id + PartialSuffix);

    SnapshotEntry Entry(string id, string folder, SnapshotStatus status, SnapshotManifest m, string? problem = null) =>
        new(id, folder.EndsWith(PartialSuffix, StringComparison.Ordinal) ? Storage.StagingFolder(folder, create: false) : Shown(folder), status, m, problem)
        { Storage = Storage, Folder = folder };

    /// <summary>Every snapshot, oldest first; unfinished ones only when asked.</summary>
    public IReadOnlyList<SnapshotEntry> List(bool includeIncomplete = false)
    {
        var list = new List<SnapshotEntry>();
        foreach (var item in Storage.List("").Where(i => i.IsFolder))
        {
            var name = item.Name;
            if (name.EndsWith(RemovingSuffix, StringComparison.Ordinal))
            {
                // A removal killed after its rename: listed as unfinished, so Remove-ExoSnapshot can end it.
                var removed = name[..^RemovingSuffix.Length];
                if (!includeIncomplete || !SnapshotId.IsValid(removed)) continue;
                var old = ReadComplete(removed, name).Manifest;
                list.Add(Entry(removed, name, SnapshotStatus.InProgress, old, "its removal was interrupted; Remove-ExoSnapshot ends it"));
                continue;
            }
            if (name.EndsWith(PartialSuffix, StringComparison.Ordinal))
            {
                if (!includeIncomplete) continue;
                var id = name[..^PartialSuffix.Length];
                if (!SnapshotId.IsValid(id)) continue;
                SnapshotManifest m;
                try { m = JsonSerializer.Deserialize<SnapshotManifest>(ReadText(Storage, StorageNames.Join(name, StateFile)), SnapshotManifest.Json) ?? new(); }
                catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { m = new SnapshotManifest { Id = id }; }
                var (parts, damaged) = ReadParts(name);
                m.Parts = parts;
                list.Add(Entry(id, name, SnapshotStatus.InProgress, m,
                    damaged.Count > 0 ? $"part record(s) {string.Join(", ", damaged)} cannot be read" : null));
                continue;
            }
            if (!SnapshotId.IsValid(name)) continue;
            list.Add(ReadComplete(name, name));
        }
        return list.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    SnapshotEntry ReadComplete(string id, string folder)
    {
        try
        {
            var m = JsonSerializer.Deserialize<SnapshotManifest>(ReadText(Storage, StorageNames.Join(folder, ManifestFile)), SnapshotManifest.Json)
                    ?? throw new JsonException("empty manifest");
            if (m.Id != id) return Entry(id, folder, SnapshotStatus.Damaged, m, $"manifest.json names snapshot '{m.Id}'");
            return Entry(id, folder, SnapshotStatus.Complete, m);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            return Entry(id, folder, SnapshotStatus.Damaged, new SnapshotManifest { Id = id }, $"manifest.json cannot be read: {e.Message}");
        }
    }

    public SnapshotEntry Get(string id, bool includeIncomplete = true) =>
        List(includeIncomplete).FirstOrDefault(s => s.Id == id) ?? throw Errors.SnapshotNotFound(id, Root, includeIncomplete);

    /// <summary>A complete snapshot to read (restore): ExoBackup.SnapshotDamaged when its manifest cannot be trusted.</summary>
    public SnapshotEntry GetComplete(string id)
    {
        var s = Get(id, includeIncomplete: false);
        if (s.Status != SnapshotStatus.Complete)
            throw Errors.SnapshotDamaged(id, s.Problem);
        return s;
    }

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
        RefuseInside(platform);
        var id = SnapshotId.New(type, DateTimeOffset.UtcNow, existing.Select(s => s.Id));
        Lock(id, breakStaleLock, log);
        try
        {
            var folder = id + PartialSuffix;
            Storage.StagingFolder(folder, create: true);
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
            SaveText(Storage, StorageNames.Join(folder, StateFile), JsonSerializer.Serialize(m, SnapshotManifest.Json));
            log.Verbose($"Opened snapshot {id} ({type}{(parent is null ? "" : ", parent " + parent)}) in {Root}.");
            return Entry(id, folder, SnapshotStatus.InProgress, m);
        }
        catch
        {
            RepositoryLock.Release(Storage, id);
            throw;
        }
    }

    /// <summary>A repository in a folder the snapshot backs up would take its own archives into the next one, and go with a restore of it.</summary>
    void RefuseInside(PlatformInfo platform)
    {
        if (Storage is not LocalFolderStorage local) return;
        foreach (var (folder, what) in new[] { (platform.Data.DataDir, "data dir"), (platform.ConfDir, "configuration folder") })
        {
            var rel = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(folder), local.Root);
            if (rel == "." || (!rel.StartsWith("..", StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(rel)))
                throw Errors.RepositoryInsideBundle(Root, what, folder);
        }
    }

    void Lock(string id, bool breakStale, IOperationLog log)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (RepositoryLock.TryAcquire(Storage, RepositoryLock.Current(id))) return;
            var owner = RepositoryLock.Read(Storage);
            if (owner is null) continue; // released meanwhile
            if (RepositoryLock.IsStale(owner))
            {
                // A lock of this host whose process is gone cannot be anybody's: the next night goes on by
                // itself. Another host's (stale by age) or an unreadable one needs -BreakLock.
                if (!breakStale && !RepositoryLock.IsLeftByDeadLocalProcess(owner))
                    throw Errors.RepositoryLockStale(Root, RepositoryLock.Describe(owner));
                log.Warning($"Breaking the stale lock of {RepositoryLock.Describe(owner)}: that process is gone. Its unfinished snapshot stays as .partial until Remove-ExoSnapshot -IncompleteOlderThan removes it.");
                RepositoryLock.BreakIfStill(Storage, owner);
                continue;
            }
            if (RepositoryLock.IsMine(owner))
            {
                if (!breakStale)
                    throw Errors.SnapshotStillOpen(owner.Snapshot, Root);
                log.Warning($"Abandoning snapshot {owner.Snapshot}, still open in this session.");
                RemovePartial(owner.Snapshot);
                RepositoryLock.BreakIfStill(Storage, owner);
                continue;
            }
            throw Errors.RepositoryLocked(Root, RepositoryLock.Describe(owner), Shown(RepositoryLock.FileName));
        }
        throw Errors.RepositoryLockedRace(Root);
    }

    /// <summary>A snapshot open for writing; parts write their files into its staging folder (<see cref="SnapshotEntry.Path"/>).</summary>
    public SnapshotEntry GetOpen(string id)
    {
        if (Storage.Stat(id + PartialSuffix) is not { IsFolder: true })
        {
            if (Storage.Stat(id) is { IsFolder: true })
                throw Errors.SnapshotComplete(id);
            throw Errors.SnapshotNotFoundOpen(id, Root);
        }
        return Get(id);
    }

    /// <summary>A new file of a staging folder (and its missing folders), 0600 from the start.</summary>
    public static FileStream CreateFile(string path) => PrivateFiles.Create(path);

    public void RecordPart(SnapshotEntry snapshot, PartRecord part) =>
        SaveText(Storage, StorageNames.Join(snapshot.Folder, $"{PartsDir}/{part.Key}.json"), JsonSerializer.Serialize(part, SnapshotManifest.Json));

    /// <summary>The part records of an open snapshot, and the names of those that cannot be read (never silently left out).</summary>
    (List<PartRecord> Parts, List<string> Damaged) ReadParts(string folder)
    {
        var parts = new List<PartRecord>();
        var damaged = new List<string>();
        foreach (var f in Storage.List(StorageNames.Join(folder, PartsDir)).Where(f => !f.IsFolder && f.Name.EndsWith(".json", StringComparison.Ordinal)))
        {
            var shown = f.Name[(f.Name.LastIndexOf('/') + 1)..];
            try
            {
                if (JsonSerializer.Deserialize<PartRecord>(ReadText(Storage, f.Name), SnapshotManifest.Json) is { } p) parts.Add(p);
                else damaged.Add(shown);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { damaged.Add(shown); }
        }
        return (parts, damaged);
    }

    /// <summary>Seals a snapshot: manifest.json, SHA256SUMS, everything on stable storage, published under its id, the lock released.</summary>
    public SnapshotEntry Complete(string id, bool allowOnline, IOperationLog log, TimeSpan? downtime = null)
    {
        var open = GetOpen(id);
        var owner = RepositoryLock.Read(Storage);
        if (owner is not null && owner.Snapshot != id)
            throw Errors.RepositoryLockedOther(id, RepositoryLock.Describe(owner));
        if (owner is not null && !RepositoryLock.IsMine(owner) && !RepositoryLock.IsStale(owner))
            throw Errors.RepositoryLockedSnapshot(id, RepositoryLock.Describe(owner));
        var m = open.Manifest;
        if (open.Problem is not null)
            throw Errors.RepositoryCorruptOpen(id, open.Problem);
        if (m.Parts.Count == 0)
            throw Errors.SnapshotEmpty(id);
        var online = m.Parts.Where(p => p.PlatformRunningAtStart || p.PlatformRunningAtEnd || p.ChangedWhileRead.Count > 0).ToList();
        if (online.Count > 0 && !allowOnline)
            throw Errors.SnapshotOnline(
                $"Snapshot {id} is not consistent: {string.Join("; ", online.Select(p => p.Key + (p.ChangedWhileRead.Count > 0 ? $" saw {p.ChangedWhileRead.Count} file(s) change while read" : " was taken while eXo ran")))}.", id);
        m.Consistency = online.Count > 0 ? Consistency.Online : Consistency.Offline;
        m.Completed = DateTimeOffset.UtcNow;
        m.Downtime = downtime;

        var folder = open.Folder;
        Storage.Flush(folder); // every dump and chat file on stable storage before the manifest says complete
        Storage.Remove(StorageNames.Join(folder, StateFile));
        SaveText(Storage, StorageNames.Join(folder, ManifestFile), JsonSerializer.Serialize(m, SnapshotManifest.Json));
        Storage.Remove(StorageNames.Join(folder, PartsDir));
        WriteSha256Sums(folder, m.Parts.SelectMany(p => p.Files).ToDictionary(f => f.Path, f => f.Sha256));
        Storage.Publish(folder, id);
        RepositoryLock.Release(Storage, id);
        log.Verbose($"Completed snapshot {id} ({m.Consistency}).");
        if (m.Parts.Sum(p => p.Skipped.Count) is var skipped and > 0)
            log.Warning($"Snapshot {id} lacks {skipped} item(s) its parts skipped (unreadable, or neither file, folder nor link): see SkippedItems and each part's Skipped.");
        return ReadComplete(id, id);
    }

    /// <summary>
    /// SHA256SUMS in the format `sha256sum -c` reads: "&lt;hex&gt;  &lt;path&gt;". The parts' files keep the
    /// hash computed as they were written (reading them again would double the cost of a backup).
    /// </summary>
    void WriteSha256Sums(string folder, IReadOnlyDictionary<string, string> known)
    {
        var sb = new StringBuilder();
        foreach (var name in Storage.ListFiles(folder).Select(f => f.Name[(folder.Length + 1)..]).Where(f => f != SumsFile))
        {
            if (!known.TryGetValue(name, out var hash))
            {
                using var fs = Storage.Load(StorageNames.Join(folder, name));
                hash = Sha256.Hex(fs);
            }
            sb.Append(hash).Append("  ").Append(name).Append('\n');
        }
        SaveText(Storage, StorageNames.Join(folder, SumsFile), sb.ToString());
    }

    /// <summary>Removes an unfinished snapshot, or ends an interrupted removal of a complete one.</summary>
    public void RemovePartial(string id)
    {
        foreach (var folder in new[] { id + PartialSuffix, id + RemovingSuffix })
            Storage.Remove(folder); // through handles: a repository may be writable by others
        RepositoryLock.Release(Storage, id);
    }

    /// <summary>Removes a complete snapshot: renamed to .removing.partial first, so a crash midway never leaves a half snapshot that looks complete.</summary>
    public void RemoveComplete(string id)
    {
        var doomed = id + RemovingSuffix;
        Storage.Rename(id, doomed);
        Storage.Remove(doomed);
    }
}
