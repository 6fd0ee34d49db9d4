using ExoBackup.Engine.IO;
using ExoBackup.Engine.Hashing;
using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Restore;

/// <summary>What one restored root (a folder or a file) became.</summary>
public sealed record RestoredRoot(string Prefix, string Target, string? PreviousKeptAt, long Files, long Bytes);

public sealed class TreeRestoreOptions
{
    /// <summary>Archive prefix → where it goes back.</summary>
    public required Func<string, string> TargetFor { get; init; }
    /// <summary>Only entries matching these patterns (in place, replaced files kept aside); all when empty.</summary>
    public IReadOnlyList<string> PathFilter { get; init; } = [];
    /// <summary>Remove what was replaced instead of keeping it as &lt;target&gt;.pre-restore-&lt;time&gt;.</summary>
    public bool DiscardReplaced { get; init; }
    public string Stamp { get; init; } = Timestamps.NowCompact();
    /// <summary>Apply every owner the index names; otherwise an owner other than the target's is replaced by the target's, and reported.</summary>
    public bool KeepOwners { get; init; }
    /// <summary>Apply setuid, setgid, sticky and world-writable bits as the index says; otherwise they are dropped, and reported.</summary>
    public bool KeepSpecialModes { get; init; }
    /// <summary>
    /// As root: the uid that must own a target taken from the bundle's settings (its owner's), and which
    /// targets the operator named himself (-DataDir). The eXo account writes those settings
    /// (EXO_DATA_DIR, exo.properties), and a snapshot may name the bundle: without this, a restore could
    /// be steered to replace, and with -Force delete, any folder of root's.
    /// </summary>
    public int? SettingsOwnerUid { get; init; }
    public Func<string, bool> NamedByOperator { get; init; } = _ => false;
    /// <summary>Warn of the owners and modes the policy changed (not for a scratch copy, deleted after).</summary>
    public bool ReportMetadataChanges { get; init; } = true;
    public int ProgressId { get; init; } = 30;
    public int ParentProgressId { get; init; } = -1;
}

/// <summary>
/// Restores the final state of a chain: each file from the archive that holds it (as the index of
/// the restored snapshot says), deletions already applied (the index is complete). Everything is
/// written into a fresh folder beside the target and swapped in at the end, so a failure leaves the
/// target as it was; the replaced data is kept as &lt;target&gt;.pre-restore-&lt;time&gt;. Only paths from
/// the verified index are ever written, and each is checked: no absolute path, no "..", no link
/// that leaves the target, no file under a link.
/// </summary>
public static class TreeRestore
{
    /// <summary>Stages and commits at once (Test-ExoSnapshot -Level Restore, and callers with one component).</summary>
    public static List<RestoredRoot> Run(SnapshotRepository repo, SnapshotEntry snapshot, string component, TreeRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        using var staged = Stage(repo, snapshot, component, o, log, ct);
        return staged.Commit(log);
    }

    /// <summary>
    /// Writes the component into staging folders beside its targets (or, with a path filter, in
    /// place with replaced files kept aside). Nothing of the targets changes until Commit.
    /// </summary>
    public static StagedTree Stage(SnapshotRepository repo, SnapshotEntry snapshot, string component, TreeRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        var indexName = PartOf(snapshot, component).Tree.Index!;
        var (chain, broken) = repo.Chain(snapshot.Id);
        if (broken is not null)
            throw new ExoBackupException("ExoBackup.ChainBroken", ErrorKind.InvalidData,
                $"Snapshot {snapshot.Id} cannot be restored: {broken}.", snapshot.Id, "Restore an older snapshot whose chain is whole (Test-ExoSnapshot tells which).");
        var index = FileIndex.Read(snapshot.OpenRead(indexName), indexName);
        var filter = o.PathFilter.Count > 0 ? TreeScanner.Excluder([], o.PathFilter) : null;

        // Which root each entry belongs to: the longest prefix of the index's roots.
        var prefixes = index.Header.Roots.Keys.OrderByDescending(k => k.Length).ToList();
        string RootOf(string path) => prefixes.First(p => p.Length == 0 || path == p || path.StartsWith(p + "/", StringComparison.Ordinal));
        var entries = index.Entries.Values.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
        Validate(entries, index.Header.Roots.Keys);
        if (filter is not null) entries = entries.Where(e => e.Kind == 'f' && filter(e.Path)).ToList();
        var byRoot = entries.GroupBy(e => RootOf(e.Path)).ToDictionary(g => g.Key, g => g.ToList());

        var archives = chain.ToDictionary(s => s.Id);
        var staged = new StagedTree(o, inPlace: filter is not null);
        try
        {
            var plans = byRoot.Select(kv => (Prefix: kv.Key, List: kv.Value, Target: Path.GetFullPath(o.TargetFor(kv.Key)))).ToList();
            // A root whose target lies inside another's (with -DataDir, _external/files inside the new data
            // dir) is staged inside that root's staging folder, so that one rename commits both: staged
            // beside its own target, it would be inside the folder the swap moves away.
            string? ContainerOf(string target) => filter is not null ? null :
                plans.Select(x => x.Target).Where(t => t != target && target.StartsWith(t + Path.DirectorySeparatorChar, StringComparison.Ordinal)).MinBy(t => t.Length);
            string StagingOf(string target) => filter is not null ? target
                : ContainerOf(target) is { } outer ? StagingOf(outer) + target[outer.Length..] : $"{target}.restore-{o.Stamp}";
            if (o.SettingsOwnerUid is int owner)
                foreach (var plan in plans.Where(x => ContainerOf(x.Target) is null && !o.NamedByOperator(x.Target)))
                {
                    // A link on the way that root does not own could point anywhere (…/l/newdir with l -> /etc/systemd/system).
                    for (var p = Path.GetDirectoryName(plan.Target); p is not null; p = Path.GetDirectoryName(p))
                        if (FileStatReader.TryGet(p) is { Type: EntryType.Symlink, Uid: not 0 } link)
                            throw new ExoBackupException("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied,
                                $"'{plan.Target}' is reached through '{p}', a link of uid {link.Uid}, which could point anywhere; nothing was changed.",
                                plan.Target, "Point the bundle's settings at the real folder, or name it yourself with -DataDir.");
                    var (uid, _) = OwnerOfNearest(plan.Target);
                    if (uid != owner)
                        throw new ExoBackupException("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied,
                            $"'{plan.Target}' (or the folder it would be created in) belongs to uid {uid}, not to the bundle's owner (uid {owner}): the bundle's settings name it, and the eXo account writes those settings, so it is not replaced. Nothing was changed.",
                            plan.Target, "Check EXO_DATA_DIR, EXO_CONF_DIR and exo.properties; to restore there anyway, give the folder to the eXo account, or name it yourself with -DataDir.");
                }
            foreach (var plan in plans.Where(x => filter is null && ContainerOf(x.Target) is null))
            {
                var staging = StagingOf(plan.Target);
                if (Directory.Exists(staging) || File.Exists(staging))
                    throw new ExoBackupException("ExoBackup.RestoreStagingExists", ErrorKind.ResourceBusy,
                        $"'{staging}' already exists (another restore?).", staging, "Remove it if no restore runs.");
                staged.Cleanup.Add(staging);
            }
            // Nested roots first, so their container's folder times are applied last.
            foreach (var (prefix, list, target) in plans.OrderByDescending(x => x.Target.Length).ThenBy(x => x.Prefix, StringComparer.Ordinal))
            {
                var staging = StagingOf(target);
                Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
                // Where the files will be written: beside the target (a staged restore) or in it (-Path).
                if (IsCaseInsensitive(filter is null ? Path.GetDirectoryName(staging)! : target)) RefuseCaseClashes(list);
                var policy = new MetadataPolicy(o, OwnerOfNearest(target));
                var (files, bytes) = Materialize(component, prefix, index.Header.RootStat, staging, list, archives, filter is not null ? $"{target}.pre-restore-{o.Stamp}" : null, policy, o, log, ct);
                if (o.ReportMetadataChanges) policy.Report(prefix.Length == 0 ? component : prefix, target, log);
                staged.Roots.Add((prefix, target, staging, ContainerOf(target), files, bytes));
            }
            staged.Roots.Sort((a, b) => string.CompareOrdinal(a.Prefix, b.Prefix));
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    /// <summary>A restored component waiting in its staging folders; Commit swaps it in, Dispose (without Commit) removes it.</summary>
    public sealed class StagedTree(TreeRestoreOptions o, bool inPlace) : IDisposable
    {
        internal readonly List<(string Prefix, string Target, string Staging, string? Container, long Files, long Bytes)> Roots = [];
        internal readonly List<string> Cleanup = []; // staging folders this restore created

        public List<RestoredRoot> Commit(IOperationLog log)
        {
            if (inPlace)
                return Roots.Select(s => new RestoredRoot(s.Prefix, s.Target, Directory.Exists($"{s.Target}.pre-restore-{o.Stamp}") ? $"{s.Target}.pre-restore-{o.Stamp}" : null, s.Files, s.Bytes)).ToList();
            var results = new List<RestoredRoot>();
            // Swap every root in; on a failure put back what was swapped so far.
            var swapped = new List<(string Target, string? Kept)>();
            // The staged trees reach the disk before they replace anything (a power cut after the swap
            // would otherwise leave empty files and, with -Force, no old copy).
            foreach (var s in Roots.Where(r => r.Container is null)) IO.AtomicFiles.SyncFileSystem(s.Staging);
            try
            {
                foreach (var s in Roots.Where(r => r.Container is null))
                {
                    string? kept = null;
                    if (Directory.Exists(s.Target) || File.Exists(s.Target) || new FileInfo(s.Target).LinkTarget is not null)
                    {
                        kept = $"{s.Target}.pre-restore-{o.Stamp}";
                        Move(s.Target, kept);
                    }
                    swapped.Add((s.Target, kept));
                    Move(s.Staging, s.Target);
                    results.Add(new RestoredRoot(s.Prefix, s.Target, kept, s.Files, s.Bytes));
                }
            }
            catch
            {
                foreach (var (target, kept) in Enumerable.Reverse(swapped))
                {
                    if (Directory.Exists(target) || File.Exists(target)) Delete(target);
                    if (kept is not null) Move(kept, target);
                }
                throw;
            }
            foreach (var (target, _) in swapped) IO.AtomicFiles.SyncDirectory(Path.GetDirectoryName(target)!);
            // A nested root went in with its container; what it replaced went aside with the container's.
            foreach (var s in Roots.Where(r => r.Container is not null))
            {
                var outer = results.First(r => r.Target == s.Container);
                var kept = outer.PreviousKeptAt is { } k ? k + s.Target[s.Container!.Length..] : null;
                results.Add(new RestoredRoot(s.Prefix, s.Target, kept is not null && (Directory.Exists(kept) || File.Exists(kept)) ? kept : null, s.Files, s.Bytes));
            }
            Cleanup.Clear();
            if (o.DiscardReplaced)
                for (var i = 0; i < results.Count; i++)
                    if (results[i].PreviousKeptAt is { } kept)
                    {
                        Delete(kept);
                        results[i] = results[i] with { PreviousKeptAt = null };
                    }
            return results;
        }

        public void Dispose()
        {
            foreach (var staging in Cleanup.Where(s => Directory.Exists(s) || File.Exists(s)))
                try { Delete(staging); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            Cleanup.Clear();
        }
    }

    /// <summary>Writes one root's entries under <paramref name="dest"/>: folders, then files archive by archive, then links, then folder times.</summary>
    static (long Files, long Bytes) Materialize(string component, string prefix, IndexEntry? rootStat, string dest, List<IndexEntry> entries, Dictionary<string, SnapshotEntry> chain,
        string? keepReplacedUnder, MetadataPolicy policy, TreeRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        string Local(string path) => path == prefix ? dest
            : Path.Combine(dest, (prefix.Length == 0 ? path : path[(prefix.Length + 1)..]).Replace('/', Path.DirectorySeparatorChar));
        var rootEntry = entries.FirstOrDefault(e => e.Path == prefix);
        var rootIsFile = rootEntry is not null && rootEntry.Kind != 'd';
        // Folders are 0700 until their own metadata is applied last, files are created with their final
        // permission bits: no other user can open a restored secret (the codec key) while it is written.
        if (!rootIsFile && keepReplacedUnder is null) IO.PrivateFiles.CreateDirectory(dest);

        foreach (var d in entries.Where(e => e.Kind == 'd')) IO.PrivateFiles.CreateDirectory(Local(d.Path));

        var files = entries.Where(e => e.Kind == 'f').ToList();
        long total = files.Sum(f => f.Size), done = 0, count = 0;
        var watch = Stopwatch.StartNew();
        var activity = $"Restoring {(prefix.Length == 0 ? "the data dir" : prefix)} to {dest}";
        foreach (var group in files.GroupBy(f => f.Archive!))
        {
            if (!chain.TryGetValue(group.Key, out var holder))
                throw new ExoBackupException("ExoBackup.ChainBroken", ErrorKind.InvalidData,
                    $"The index places files in snapshot {group.Key}, which is not in the chain.", group.Key, "Test the snapshot with Test-ExoSnapshot.");
            var wanted = group.ToDictionary(f => f.Path, StringComparer.Ordinal);
            var part = PartOf(holder, component);
            var archiveName = part.Tree.Archive!;
            var archivePath = Path.Combine(holder.Path, archiveName); // as shown in messages
            // The archive's SHA-256 is checked while it is extracted (into the staging folder, never the target).
            var expected = part.Files.First(f => f.Path == archiveName).Sha256;
            using var raw = new VerifyingReadStream(holder.OpenRead(archiveName));
            try
            {
            using var stream = Compression.Decompress(raw, Compression.FromFileName(archiveName));
            using var reader = new TarReader(stream);
            TarEntry? te;
            var buffer = new byte[1 << 20];
            while (wanted.Count > 0 && (te = reader.GetNextEntry()) is not null)
            {
                ct.ThrowIfCancellationRequested();
                if (te.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                if (!wanted.Remove(te.Name, out var e)) continue;
                // The entry's length from its header, before a byte is written: a 101 KB archive whose entry
                // inflated to 3 GiB filled the disk before its checksum was compared.
                if (te.Length != e.Size)
                    throw new ExoBackupException("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData,
                        $"'{e.Path}' in {Path.GetFileName(archivePath)} of {holder.Id} holds {te.Length:N0} bytes where the index says {e.Size:N0}; nothing was replaced.", archivePath,
                        "The archive or its index is damaged or was altered: Test-ExoSnapshot -Level Archive shows the extent; restore another snapshot.");
                var local = Local(e.Path);
                if (keepReplacedUnder is not null) KeepAside(local, dest, keepReplacedUnder);
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                var sha = ContentHash.Create();
                using (var output = CreateRestored(local, policy.Mode(e, count: false)))
                {
                    if (e.Size > 0) output.SetLength(e.Size);
                    long n = 0;
                    int read;
                    while (te.DataStream is not null && (read = te.DataStream.Read(buffer)) > 0)
                    {
                        sha.Append(buffer.AsSpan(0, read));
                        output.Write(buffer, 0, read);
                        n += read;
                    }
                    var hash = ContentHash.Hex(sha);
                    if (n != e.Size || hash != e.Hash)
                        throw new ExoBackupException("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData,
                            $"'{e.Path}' from {Path.GetFileName(archivePath)} of {holder.Id} does not match its checksum.", archivePath,
                            "The archive is damaged: Test-ExoSnapshot -Level Archive shows the extent; restore another snapshot.");
                }
                ApplyMetadata(local, e, policy);
                done += e.Size;
                count++;
                if (count % 200 == 0)
                {
                    var rate = done / Math.Max(0.001, watch.Elapsed.TotalSeconds);
                    log.Progress(new ProgressUpdate(o.ProgressId, activity, $"{Units.Bytes(done)} of {Units.Bytes(total)}, {count:N0} files",
                        total > 0 ? (int)(100 * done / total) : -1, rate > 0 ? (int)((total - done) / rate) : -1, o.ParentProgressId));
                }
            }
                // Before the streams close: the rest of the file is read and hashed.
                if (raw.Finish() != expected)
                    throw new ExoBackupException("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData,
                        $"{Path.GetFileName(archivePath)} of {holder.Id} does not match its SHA-256; nothing was replaced.", archivePath,
                        "Run Test-ExoSnapshot for the details, and restore an older snapshot that passes.");
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ZstdSharp.ZstdException)
            {
                throw new ExoBackupException("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData,
                    $"{Path.GetFileName(archivePath)} of {holder.Id} is damaged ({e.Message}); nothing was replaced.", archivePath,
                    "Run Test-ExoSnapshot for the details, and restore an older snapshot that passes.", e);
            }
            if (wanted.Count > 0)
                throw new ExoBackupException("ExoBackup.ArchiveIncomplete", ErrorKind.InvalidData,
                    $"{wanted.Count} file(s) are missing from {Path.GetFileName(archivePath)} of {holder.Id}, e.g. '{wanted.Keys.First()}'.", archivePath,
                    "The archive is damaged: restore another snapshot.");
        }
        foreach (var l in entries.Where(e => e.Kind == 'l'))
        {
            var local = Local(l.Path);
            if (keepReplacedUnder is not null) KeepAside(local, dest, keepReplacedUnder);
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            File.CreateSymbolicLink(local, l.Link!);
            var (uid, gid) = policy.Owner(l);
            FileStatReader.SetOwner(local, uid, gid);
            FileStatReader.SetMtime(local, l.MtimeNs, isDirectory: false);
        }
        foreach (var d in entries.Where(e => e.Kind == 'd').OrderByDescending(e => e.Path.Length)) ApplyMetadata(Local(d.Path), d, policy);
        // The data dir itself: eXo must own it again, or it cannot write there.
        if (prefix.Length == 0 && rootStat is not null && keepReplacedUnder is null) ApplyMetadata(dest, rootStat, policy);
        log.Progress(new ProgressUpdate(o.ProgressId, activity, "done", ParentActivityId: o.ParentProgressId, Completed: true));
        return (count, done);
    }

    static PartRecord PartOf(SnapshotEntry s, string component) =>
        s.Manifest.Parts.FirstOrDefault(p => p.Component == component && p.IsTree && p.Tree is { Archive: not null, Index: not null })
        ?? throw new ExoBackupException("ExoBackup.PartNotFound", ErrorKind.ObjectNotFound,
            $"Snapshot {s.Id} has no {component} part.", s.Id, "Pick a snapshot that holds it (Get-ExoSnapshot shows the parts).");

    static void KeepAside(string local, string root, string keptRoot)
    {
        if (!File.Exists(local) && new FileInfo(local).LinkTarget is null) return;
        var kept = Path.Combine(keptRoot, Path.GetRelativePath(root, local));
        Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
        File.Move(local, kept);
    }

    static FileStream CreateRestored(string path, int mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        // The creating open may write even a 0400 file; the umask can only narrow the bits until ApplyMetadata.
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = (UnixFileMode)(mode & 0x1FF);
        return new FileStream(path, options);
    }

    static void ApplyMetadata(string path, IndexEntry e, MetadataPolicy policy)
    {
        var (uid, gid) = policy.Owner(e);
        FileStatReader.SetOwner(path, uid, gid);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)policy.Mode(e));
        FileStatReader.SetMtime(path, e.MtimeNs, e.Kind == 'd');
    }

    /// <summary>The owner of the target, or of its nearest existing folder above it: who the restored tree belongs to.</summary>
    static (int Uid, int Gid) OwnerOfNearest(string target)
    {
        for (var p = target; p is not null; p = Path.GetDirectoryName(p))
            if (FileStatReader.TryGet(p) is { } st) return (st.Uid, st.Gid);
        return (0, 0);
    }

    /// <summary>
    /// What of an index entry's owner and mode a restore applies. The index comes from a repository
    /// that others may write: by default an owner other than the target's (uid 0 above all) becomes
    /// the target's, and setuid, setgid, sticky and world-writable bits are dropped; both are counted and reported.
    /// </summary>
    internal sealed class MetadataPolicy(TreeRestoreOptions o, (int Uid, int Gid) targetOwner)
    {
        const int Special = 0xE00, WorldWritable = 0x2;
        int _owners, _modes;

        public (int Uid, int Gid) Owner(IndexEntry e)
        {
            if (o.KeepOwners || (e.Uid, e.Gid) == targetOwner) return (e.Uid, e.Gid);
            Interlocked.Increment(ref _owners);
            return targetOwner;
        }

        /// <summary>The mode to apply; counted once per entry, where its metadata is applied.</summary>
        public int Mode(IndexEntry e, bool count = true)
        {
            var mode = e.Mode & 0xFFF;
            if (o.KeepSpecialModes || (mode & (Special | WorldWritable)) == 0) return mode;
            if (count) Interlocked.Increment(ref _modes);
            return mode & ~(Special | WorldWritable);
        }

        public void Report(string what, string target, IOperationLog log)
        {
            if (_owners > 0)
                log.Warning($"{what}: {_owners} entr(ies) of the index named an owner other than {target}'s ({targetOwner.Uid}:{targetOwner.Gid}); they were given {targetOwner.Uid}:{targetOwner.Gid}. Use -KeepOwner to apply the index's owners.");
            if (_modes > 0)
                log.Warning($"{what}: {_modes} entr(ies) had setuid, setgid, sticky or world-writable bits, which were dropped. Use -KeepSpecialMode to keep them.");
        }
    }

    /// <summary>Refuses paths that could write outside the target: absolute, "..", empty parts, links leaving their root, entries under a link.</summary>
    public static void Validate(IReadOnlyList<IndexEntry> entries, IEnumerable<string> roots)
    {
        var kinds = entries.ToDictionary(e => e.Path, e => e.Kind, StringComparer.Ordinal);
        var links = entries.Where(e => e.Kind == 'l').ToDictionary(e => e.Path, e => e.Link ?? "", StringComparer.Ordinal);
        var rootSet = roots.ToHashSet(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Kind is not ('f' or 'd' or 'l'))
                throw Unsafe(e.Path, $"is of kind '{e.Kind}', not a file, folder or link (ExoBackup never stores devices)");
            var parts = e.Path.Split('/');
            if (e.Path.StartsWith('/') || e.Path.Contains('\\') || e.Path.Contains('\0') || (e.Path.Length > 1 && e.Path[1] == ':')
                || parts.Any(p => p is "" or "." or ".."))
                throw Unsafe(e.Path, "is absolute or contains '..' or an empty part");
            for (var i = 1; i < parts.Length; i++)
            {
                var ancestor = string.Join('/', parts, 0, i);
                if (kinds.TryGetValue(ancestor, out var k) && k != 'd')
                    throw Unsafe(e.Path, $"lies under '{ancestor}', which is not a folder");
            }
            if (e.Kind == 'l')
            {
                var link = e.Link ?? "";
                var root = rootSet.Where(r => r.Length == 0 || e.Path == r || e.Path.StartsWith(r + "/", StringComparison.Ordinal)).MaxBy(r => r.Length) ?? "";
                if (link.Length == 0 || link.StartsWith('/') || link.Contains('\\') || (link.Length > 1 && link[1] == ':'))
                    throw Unsafe(e.Path, $"is a link to '{link}', outside the restored tree");
                if (Resolve(e.Path, root, links) is { } why) throw Unsafe(e.Path, $"is a link to '{link}', {why}");
            }
        }
    }

    /// <summary>
    /// Follows a link as the kernel will once the tree is restored: component by component, through the
    /// other links of the index. Counting ".." from the link's own place missed a component that is itself
    /// a link (up -> ../../.., then esc -> a/b/up/../..): each looked inside, the chain led out (finding 2.7).
    /// Null when it ends inside <paramref name="root"/>; else why not.
    /// </summary>
    static string? Resolve(string linkPath, string root, IReadOnlyDictionary<string, string> links)
    {
        var floor = root.Length == 0 ? 0 : root.Split('/').Length;
        var at = new List<string>(linkPath.Split('/')[..^1]);
        var pending = new LinkedList<string>(links[linkPath].Split('/'));
        for (var hops = 0; pending.Count > 0;)
        {
            var c = pending.First!.Value;
            pending.RemoveFirst();
            if (c is "" or ".") continue;
            if (c == "..")
            {
                if (at.Count <= floor) return "which leaves the restored tree";
                at.RemoveAt(at.Count - 1);
                continue;
            }
            at.Add(c);
            if (!links.TryGetValue(string.Join('/', at), out var next)) continue;
            if (++hops > 40) return "which goes round a loop of links";
            at.RemoveAt(at.Count - 1);
            if (next.StartsWith('/')) return "through a link to an absolute path, outside the restored tree";
            foreach (var part in Enumerable.Reverse(next.Split('/'))) pending.AddFirst(part);
        }
        return null;
    }

    /// <summary>
    /// On a case-insensitive file system (Windows, macOS, casefolded ext4), two names that differ
    /// only by case are one file: the second would overwrite the first, or a link would redirect a
    /// file. Such a restore is refused, naming both.
    /// </summary>
    public static void RefuseCaseClashes(IEnumerable<IndexEntry> entries)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in entries)
            if (!seen.TryAdd(e.Path, e.Path))
                throw Unsafe(e.Path, $"differs from '{seen[e.Path]}' only by case, and the target's file system does not tell them apart");
    }

    /// <summary>Whether the folder's file system ignores case: a probe file is looked up under its upper-case name.</summary>
    public static bool IsCaseInsensitive(string folder)
    {
        var probe = Path.Combine(folder, $".exobackup-case-probe-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
                return File.Exists(Path.Combine(folder, Path.GetFileName(probe).ToUpperInvariant()));
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Cannot probe here (read-only, or a file's root): what the platform's usual file systems do.
            return OperatingSystem.IsWindows() || OperatingSystem.IsMacOS();
        }
    }

    static ExoBackupException Unsafe(string path, string why) =>
        new("ExoBackup.UnsafeArchiveEntry", ErrorKind.InvalidData, $"Refusing to restore '{path}': it {why}.", path,
            "The snapshot was not written by ExoBackup or has been tampered with; restore another snapshot.");

    static void Move(string from, string to)
    {
        if (Directory.Exists(from) && new DirectoryInfo(from).LinkTarget is null) Directory.Move(from, to);
        else File.Move(from, to);
    }

    static void Delete(string path) => IO.TreeDeleter.Delete(path);
}
