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
    /// be steered to replace, and with -DiscardReplaced delete, any folder of root's.
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
/// The eXo account owns the folder the target is in and may rename or relink any entry of it at any
/// instant, so nothing is done by path below the target's parent, which is opened once (IO.WritableFolder):
/// the staging folder is made there 0700 under an unpredictable name and opened O_NOFOLLOW right
/// after, everything in it is made relative to its folder's descriptor, owners, modes and times are
/// set on descriptors (a link's with AT_SYMLINK_NOFOLLOW), and the commit renames in the parent only
/// what fstatat shows is the entry made. With -Include the live tree is walked one name at a time
/// (O_NOFOLLOW|O_DIRECTORY) and a link on the way is refused before anything is written.
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
            throw Errors.ChainBroken($"Snapshot {snapshot.Id} cannot be restored: {broken}.", snapshot.Id);
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
            var plans = byRoot.Select(kv => (Prefix: kv.Key, List: kv.Value, Target: Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.TargetFor(kv.Key))))).ToList();
            // A root whose target lies inside another's (with -DataDir, _external/files inside the new data
            // dir) is staged inside that root's staging folder, so that one rename commits both: staged
            // beside its own target, it would be inside the folder the swap moves away.
            string? ContainerOf(string target) => filter is not null ? null :
                plans.Select(x => x.Target).Where(t => t != target && target.StartsWith(t + Path.DirectorySeparatorChar, StringComparison.Ordinal)).MinBy(t => t.Length);
            // Each target not inside another's: its parent, opened once by its path (the operator's, or the
            // settings' checked below) if it exists; nothing is made before the checks. All else goes through it.
            foreach (var plan in plans.Where(x => ContainerOf(x.Target) is null)) staged.Slots[plan.Target] = new Slot(plan.Target, o.Stamp);
            if (o.SettingsOwnerUid is int owner)
                foreach (var plan in plans.Where(x => ContainerOf(x.Target) is null && !o.NamedByOperator(x.Target)))
                {
                    // A link on the way that root does not own could point anywhere (…/l/newdir with l -> /etc/systemd/system).
                    for (var p = Path.GetDirectoryName(plan.Target); p is not null; p = Path.GetDirectoryName(p))
                        if (FileStatReader.TryGet(p) is { Type: EntryType.Symlink, Uid: not 0 } link)
                            throw Errors.UnsafeRestoreTargetLink(plan.Target, p, link.Uid);
                    var (uid, _) = staged.Slots[plan.Target].Owner();
                    if (uid != owner)
                        throw Errors.UnsafeRestoreTarget(plan.Target, uid, owner);
                }
            // -Include: every folder on the way to every file, in the live tree, before anything is written.
            foreach (var plan in plans.Where(x => filter is not null))
                staged.Slots[plan.Target].CheckLive(plan.List.Select(e => PartsBelow(plan.Prefix, e.Path)), IsFileRoot(plan.List, plan.Prefix));
            foreach (var plan in plans.Where(x => filter is not null)) staged.Slots[plan.Target].OpenLive(IsFileRoot(plan.List, plan.Prefix));
            foreach (var plan in plans.Where(x => filter is null && ContainerOf(x.Target) is null))
            {
                var slot = staged.Slots[plan.Target];
                var staging = slot.StagingShown;
                if (slot.OpenParent().StatAt(slot.StagingName) is not null || !slot.MakeStaging(IsFileRoot(plan.List, plan.Prefix)))
                    throw Errors.RestoreStagingExists(staging);
                BetweenSteps.Value?.Invoke("staged", staging);
            }
            // Nested roots first, so their container's folder times are applied last.
            foreach (var (prefix, list, target) in plans.OrderByDescending(x => x.Target.Length).ThenBy(x => x.Prefix, StringComparer.Ordinal))
            {
                using var dest = staged.DestFor(target, ContainerOf(target), IsFileRoot(list, prefix));
                // Where the files will be written: beside the target (a staged restore) or in it (-Include).
                if (IsCaseInsensitive(dest.Probe)) RefuseCaseClashes(list);
                var policy = new MetadataPolicy(o, ContainerOf(target) is null ? staged.Slots[target].Owner() : OwnerOfNearest(target));
                var (files, bytes) = Materialize(component, prefix, index.Header.RootStat, dest, list, archives, policy, o, log, ct);
                if (o.ReportMetadataChanges) policy.Report(prefix.Length == 0 ? component : prefix, target, log);
                staged.Roots.Add((prefix, target, dest.Shown, ContainerOf(target), files, bytes));
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
        /// <summary>The targets not inside another's, each with its parent open and what this restore made there.</summary>
        internal readonly Dictionary<string, Slot> Slots = new(StringComparer.Ordinal);

        public List<RestoredRoot> Commit(IOperationLog log)
        {
            if (inPlace)
                return Roots.Select(s => new RestoredRoot(s.Prefix, s.Target, Slots[s.Target].KeptAny ? Slots[s.Target].KeptShown : null, s.Files, s.Bytes)).ToList();
            var results = new List<RestoredRoot>();
            // Swap every root in; on a failure put back what was swapped so far.
            var swapped = new List<Slot>();
            // The staged trees reach the disk before they replace anything (a power cut after the swap
            // would otherwise leave empty files and, with -DiscardReplaced, no old copy).
            foreach (var s in Roots.Where(r => r.Container is null)) Slots[s.Target].Parent!.SyncFileSystem();
            try
            {
                foreach (var s in Roots.Where(r => r.Container is null))
                {
                    var slot = Slots[s.Target];
                    BetweenSteps.Value?.Invoke("commit", slot.StagingShown);
                    var kept = slot.SwapIn(swapped);
                    results.Add(new RestoredRoot(s.Prefix, s.Target, kept, s.Files, s.Bytes));
                }
            }
            catch
            {
                foreach (var slot in Enumerable.Reverse(swapped)) slot.PutBack(log);
                throw;
            }
            foreach (var slot in swapped) slot.Parent!.Sync();
            // A nested root went in with its container; what it replaced went aside with the container's.
            foreach (var s in Roots.Where(r => r.Container is not null))
            {
                var container = s.Container!;
                var outer = results.First(r => r.Target == container);
                var kept = outer.PreviousKeptAt is { } k ? k + s.Target[container.Length..] : null;
                results.Add(new RestoredRoot(s.Prefix, s.Target, kept is not null && Slots[container].KeptHolds(s.Target[(container.Length + 1)..]) ? kept : null, s.Files, s.Bytes));
            }
            foreach (var slot in Slots.Values) slot.Committed = true;
            if (o.DiscardReplaced)
                for (var i = 0; i < results.Count; i++)
                    if (results[i].PreviousKeptAt is { } kept)
                    {
                        // A nested root's went with its container's.
                        if (Slots.TryGetValue(results[i].Target, out var slot) && !slot.DeleteKept())
                        {
                            log.Warning($"'{kept}' is not what this restore moved aside any more (something was put in its place): it is left as it is.");
                            continue;
                        }
                        results[i] = results[i] with { PreviousKeptAt = null };
                    }
            return results;
        }

        public void Dispose()
        {
            foreach (var slot in Slots.Values)
            {
                try { slot.RemoveStaging(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                slot.Dispose();
            }
            Slots.Clear();
        }

        /// <summary>Where one root is written: its staging folder (or, nested, a folder inside its container's), the staging file of a root that is a file, or with -Include the live target.</summary>
        internal Dest DestFor(string target, string? container, bool rootIsFile)
        {
            if (inPlace)
            {
                var live = Slots[target];
                return rootIsFile ? new Dest(live.Parent!, live.Name, target, live.Parent!, live, null) : new Dest(live.Live!, null, target, live.Live!, live, null);
            }
            if (container is null)
            {
                var slot = Slots[target];
                return rootIsFile ? new Dest(slot.Parent!, slot.StagingName, slot.StagingShown, slot.Parent!, null, st => slot.Created = st)
                    : new Dest(slot.Staging!, null, slot.StagingShown, slot.Parent!, null, null);
            }
            // Inside the container's staging folder, at the place the target has inside the container.
            var outer = Slots[container];
            var parts = target[(container.Length + 1)..].Split(Path.DirectorySeparatorChar);
            var shown = outer.StagingShown + target[container.Length..];
            var cursor = new FolderCursor(outer.Staging!, WritableFolder.DefaultFolderMode);
            try
            {
                var above = cursor.At(parts, parts.Length - 1)!;
                if (rootIsFile) return new Dest(above, parts[^1], shown, outer.Parent!, null, null, cursor);
                above.MakeFolder(parts[^1], WritableFolder.PrivateMode);
                var folder = above.OpenFolder(parts[^1], out var how) ?? throw WritableFolder.NotAFolder(shown, how);
                return new Dest(folder, null, shown, outer.Parent!, null, null, folder, cursor);
            }
            catch
            {
                cursor.Dispose();
                throw;
            }
        }
    }

    /// <summary>Tests only: runs with a step's name and the staging path between two steps of a staged restore, where a swap by the eXo account would land: "staged" (the staging folder made and opened, nothing written yet), "commit" (everything written, before the swap).</summary>
    internal static readonly AsyncLocal<Action<string, string>?> BetweenSteps = new();

    /// <summary>
    /// Where Materialize writes one root: below <see cref="Folder"/> (a staging folder, or the live
    /// target with -Include), or, for a root that is a file, as <see cref="FileName"/> in it. <see cref="Shown"/>
    /// is its path in messages, <see cref="Probe"/> the folder whose file system is probed for case.
    /// </summary>
    internal sealed class Dest(WritableFolder folder, string? fileName, string shown, WritableFolder probe, Slot? live, Action<FileStat>? made, params IDisposable[] owned) : IDisposable
    {
        public WritableFolder Folder => folder;
        public string? FileName => fileName;
        public string Shown => shown;
        public WritableFolder Probe => probe;
        /// <summary>-Path: the target written in place, whose replaced files are kept aside.</summary>
        public Slot? Live => live;
        /// <summary>What the staging file of a root that is a file was made as.</summary>
        public Action<FileStat>? Made => made;
        public void Dispose() { foreach (var d in owned) d.Dispose(); }
    }

    /// <summary>
    /// A target not inside another's: its parent, opened once, and what the restore made there: the
    /// staging folder (or file) under an unpredictable name, with the device and inode it was made
    /// with; with -Include, the live target and the folder the files it replaces are kept in.
    /// </summary>
    internal sealed class Slot : IDisposable
    {
        WritableFolder? _kept;
        FolderCursor? _keptCursor;
        bool _keptFile;

        public Slot(string target, string stamp)
        {
            Target = target;
            Name = Path.GetFileName(target);
            StagingName = $"{Name}.restore-{stamp}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}";
            KeptName = $"{Name}.pre-restore-{stamp}";
            Parent = WritableFolder.TryOpenPath(ParentPath);
        }

        public string Target { get; }
        public string Name { get; }
        public string StagingName { get; }
        public string KeptName { get; }
        string ParentPath => Path.GetDirectoryName(Target) ?? throw new IOException($"'{Target}' has no folder above it to restore it in.");
        public string StagingShown => Path.Combine(ParentPath, StagingName);
        public string KeptShown => Path.Combine(ParentPath, KeptName);
        public WritableFolder? Parent { get; private set; }
        /// <summary>The staging folder of a folder root, open since it was made.</summary>
        public WritableFolder? Staging { get; private set; }
        /// <summary>What the staging entry was made as: the commit swaps in only that.</summary>
        public FileStat? Created { get; set; }
        /// <summary>What the commit moved aside as KeptName: what -DiscardReplaced deletes, and only that.</summary>
        FileStat? _keptEntry;
        /// <summary>-Path: the live target folder.</summary>
        public WritableFolder? Live { get; private set; }
        public bool KeptAny => _kept is not null || _keptFile;
        public bool Committed { get; set; }

        /// <summary>The owner of the target, or of the folder it goes in: who the restored tree belongs to.</summary>
        public (int Uid, int Gid) Owner() => Parent is null ? OwnerOfNearest(Target) : (Parent.StatAt(Name) ?? Parent.Stat()) is var st ? (st.Uid, st.Gid) : default;

        /// <summary>The parent, made first (mkdir -p) if it is missing: only once the checks passed.</summary>
        public WritableFolder OpenParent() => Parent ??= WritableFolder.OpenPath(ParentPath);

        /// <summary>Makes the staging folder of a folder root (a file root's staging file is made with its content); false when the name is taken.</summary>
        public bool MakeStaging(bool rootIsFile)
        {
            if (rootIsFile) return true;
            switch (OpenParent().MakePrivateFolder(StagingName, out var folder, out var made))
            {
                case PrivateFolder.Exists: return false;
                case PrivateFolder.Replaced: throw Errors.UnsafeRestoreTargetChanged(StagingShown, "was replaced between its mkdir and its open (a link or another folder was put in its place); nothing was written.");
            }
            (Staging, Created) = (folder, made);
            return true;
        }

        /// <summary>
        /// -Include, before anything is written: the live target, and below it the folders on the way to
        /// every entry, each opened O_NOFOLLOW from the one above. A link on the way is refused, naming it.
        /// </summary>
        public void CheckLive(IEnumerable<string[]> entries, bool rootIsFile)
        {
            if (Parent is null || rootIsFile) return; // nothing there yet, or nothing below it
            if (Parent.StatAt(KeptName) is { Type: EntryType.Symlink }) throw LinkOnTheWay(KeptShown, during: false);
            using var live = OpenLiveTarget(create: false);
            if (live is null) return;
            using var cursor = new FolderCursor(live, null, (path, how) => how == FolderOpen.Link ? LinkOnTheWay(path, during: false) : null);
            foreach (var parts in entries.Where(p => p.Length > 1)) cursor.At(parts, parts.Length - 1);
        }

        /// <summary>-Path: the live target opened (made if missing) to write into.</summary>
        public void OpenLive(bool rootIsFile)
        {
            OpenParent();
            if (!rootIsFile) Live = OpenLiveTarget(create: true);
        }

        WritableFolder? OpenLiveTarget(bool create)
        {
            var live = create ? Parent!.EnsureFolder(Name, WritableFolder.DefaultFolderMode, out var how) : Parent!.OpenFolder(Name, out how);
            if (live is not null || (how == FolderOpen.Missing && !create)) return live;
            // The target itself a link: root's own (/opt/exo/gatein/data -> /srv/exo-data) is followed as
            // the path given; another account's could point anywhere.
            if (how == FolderOpen.Link && Parent.StatAt(Name) is { Uid: 0 } && WritableFolder.TryOpenPath(Target) is { } followed) return followed;
            throw how == FolderOpen.Link ? LinkOnTheWay(Target, during: false) : WritableFolder.NotAFolder(Target, how);
        }

        /// <summary>How a link met in the live tree while files are written is refused.</summary>
        public Exception? Blocked(string path, FolderOpen how) => how == FolderOpen.Link ? LinkOnTheWay(path, during: true) : null;

        static ExoBackupException LinkOnTheWay(string path, bool during) => Errors.UnsafeRestoreTargetLiveLink(path, during);

        /// <summary>
        /// -Include: a file or link of the live tree that a restored file replaces goes, by renameat between
        /// the two folders' descriptors, to the same place under &lt;target&gt;.pre-restore-&lt;time&gt; (made as needed).
        /// </summary>
        public void KeepAside(WritableFolder folder, string name, string[] parts)
        {
            if (folder.StatAt(name) is not { Type: not EntryType.Directory }) return; // nothing there; a folder stays, and the create then fails
            if (parts.Length == 0)
            {
                // The root itself is a file: kept beside it.
                _keptFile |= folder.Rename(name, folder, KeptName);
                return;
            }
            _kept ??= OpenParent().EnsureFolder(KeptName, WritableFolder.DefaultFolderMode, out var how)
                ?? throw (how == FolderOpen.Link ? LinkOnTheWay(KeptShown, during: true) : WritableFolder.NotAFolder(KeptShown, how));
            _keptCursor ??= new FolderCursor(_kept, WritableFolder.DefaultFolderMode, Blocked);
            folder.Rename(name, _keptCursor.At(parts, parts.Length - 1)!, name);
        }

        /// <summary>
        /// Moves the target aside and the staging entry in its place, each by renameat in the parent:
        /// only after fstatat shows the staging entry is the one made, and the target moved aside is
        /// checked to be the one looked at. The path it is kept at, or null when there was none.
        /// </summary>
        public string? SwapIn(List<Slot> swapped)
        {
            var parent = Parent!;
            var made = Created ?? throw new IOException($"'{StagingShown}' was never made.");
            // The eXo account owns the parent: it may have put a link (or a folder of its own) in place of the staging folder.
            if (parent.StatAt(StagingName) is not { } staging || !staging.IsSameEntry(made))
                throw Errors.UnsafeRestoreTargetChanged(StagingShown, $"is not the {(Staging is null ? "file" : "folder")} this restore made and wrote any more (something was put in its place); nothing was swapped in, and '{Target}' is as it was.");
            swapped.Add(this);
            if (parent.StatAt(Name) is { } current)
            {
                if (parent.Rename(Name, parent, KeptName)) _keptEntry = current;
                if (_keptEntry is not null && (parent.StatAt(KeptName) is not { } moved || !moved.IsSameEntry(current)))
                    throw Errors.UnsafeRestoreTargetChanged(Target, "was replaced while it was being moved aside; it is put back, and nothing was swapped in.");
            }
            parent.Rename(StagingName, parent, Name);
            if (parent.StatAt(Name) is not { } placed || !placed.IsSameEntry(made))
                throw Errors.UnsafeRestoreTargetChanged(Target, "is not the tree this restore made right after it was renamed into place; what it replaced is put back.");
            return _keptEntry is null ? null : KeptShown;
        }

        /// <summary>Undoes SwapIn: the staged tree goes (only if the target is it), what was moved aside comes back.</summary>
        public void PutBack(IOperationLog log)
        {
            try
            {
                if (Parent!.StatAt(Name) is { } now && Created is { } made && now.IsSameEntry(made)) Parent.Delete(Name, made);
                if (_keptEntry is not null) Parent.Rename(KeptName, Parent, Name);
                _keptEntry = null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warning($"'{Target}' could not be put back as it was ({e.Message}); what it replaced is at '{KeptShown}'.");
            }
        }

        /// <summary>Whether what the commit moved aside holds the entry at <paramref name="relative"/> (a nested root's old copy).</summary>
        public bool KeptHolds(string relative)
        {
            var parts = relative.Split(Path.DirectorySeparatorChar);
            try
            {
                using var kept = Parent!.OpenFolder(KeptName, out _);
                if (kept is null) return false;
                using var cursor = new FolderCursor(kept, null);
                return cursor.At(parts, parts.Length - 1)?.StatAt(parts[^1]) is not null;
            }
            catch (IOException) { return false; }
        }

        /// <summary>-DiscardReplaced: deletes what the commit moved aside, through descriptors, if it is still that; false when something else has the name.</summary>
        public bool DeleteKept() => _keptEntry is null || Parent!.Delete(KeptName, _keptEntry);

        /// <summary>
        /// Removes what the restore made and did not commit: the staging entry if it is still the one
        /// made; else what is in the folder made, through its descriptor, wherever it was moved.
        /// </summary>
        public void RemoveStaging()
        {
            if (Committed || Created is not { } made || Parent is null) return;
            var removed = Parent.StatAt(StagingName) is { } st && st.IsSameEntry(made) && Parent.Delete(StagingName, made);
            if (!removed) Staging?.Empty();
        }

        public void Dispose()
        {
            _keptCursor?.Dispose();
            _kept?.Dispose();
            Live?.Dispose();
            Staging?.Dispose();
            Parent?.Dispose();
        }
    }

    /// <summary>Whether a root is a file (or a link) rather than a folder: its own entry says so.</summary>
    static bool IsFileRoot(List<IndexEntry> entries, string prefix) => entries.FirstOrDefault(e => e.Path == prefix) is { Kind: not 'd' };

    /// <summary>An entry's path as the names below its root; none for the root itself.</summary>
    static string[] PartsBelow(string prefix, string path) => path == prefix ? [] : (prefix.Length == 0 ? path : path[(prefix.Length + 1)..]).Split('/');

    /// <summary>
    /// Writes one root's entries into <paramref name="dest"/>: folders, then files archive by archive,
    /// then links, then folder metadata, deepest first. Every call is relative to a folder's
    /// descriptor, reached from the destination's one name at a time without following a link.
    /// </summary>
    static (long Files, long Bytes) Materialize(string component, string prefix, IndexEntry? rootStat, Dest dest, List<IndexEntry> entries, Dictionary<string, SnapshotEntry> chain,
        MetadataPolicy policy, TreeRestoreOptions o, IOperationLog log, CancellationToken ct)
    {
        // Folders are 0700 until their own metadata is applied last, files are created with their final
        // permission bits: no other user can open a restored secret (the codec key) while it is written.
        // With -Include the live tree's folders are used as they are, and those missing made as mkdir -p did.
        using var cursor = new FolderCursor(dest.Folder, dest.Live is null ? WritableFolder.PrivateMode : WritableFolder.DefaultFolderMode, dest.Live is { } live ? live.Blocked : null);
        // The folder an entry goes in and its name there; the root itself is the destination (a file root: FileName in it).
        (WritableFolder Folder, string Name, string[] Parts) Place(string path)
        {
            var parts = PartsBelow(prefix, path);
            return parts.Length == 0 ? (dest.Folder, dest.FileName!, parts) : (cursor.At(parts, parts.Length - 1)!, parts[^1], parts);
        }

        foreach (var d in entries.Where(e => e.Kind == 'd' && e.Path != prefix))
        {
            var (folder, name, _) = Place(d.Path);
            folder.MakeFolder(name, WritableFolder.PrivateMode); // there already: a folder a nested root made on its way
        }

        var files = entries.Where(e => e.Kind == 'f').ToList();
        long total = files.Sum(f => f.Size), done = 0, count = 0;
        var watch = Stopwatch.StartNew();
        var activity = $"Restoring {(prefix.Length == 0 ? "the data dir" : prefix)} to {dest.Shown}";
        foreach (var group in files.GroupBy(f => f.Archive!))
        {
            if (!chain.TryGetValue(group.Key, out var holder))
                throw Errors.ChainBrokenIndex(group.Key);
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
                    throw Errors.ChecksumMismatchEntry(
                        $"'{e.Path}' in {Path.GetFileName(archivePath)} of {holder.Id} holds {te.Length:N0} bytes where the index says {e.Size:N0}; nothing was replaced.", archivePath);
                var (folder, name, parts) = Place(e.Path);
                dest.Live?.KeepAside(folder, name, parts);
                var sha = ContentHash.Create();
                using (var output = folder.CreateFile(name, policy.Mode(e, count: false)))
                {
                    if (parts.Length == 0) dest.Made?.Invoke(WritableFolder.Stat(output, dest.Shown));
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
                        throw Errors.ChecksumMismatchEntry($"'{e.Path}' from {Path.GetFileName(archivePath)} of {holder.Id} does not match its checksum.", archivePath);
                    ApplyMetadata(output, folder.PathOf(name), e, policy);
                }
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
                    throw Errors.ChecksumMismatch($"{Path.GetFileName(archivePath)} of {holder.Id} does not match its SHA-256; nothing was replaced.", archivePath);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ZstdSharp.ZstdException)
            {
                throw Errors.ChecksumMismatch($"{Path.GetFileName(archivePath)} of {holder.Id} is damaged ({e.Message}); nothing was replaced.", archivePath, e);
            }
            if (wanted.Count > 0)
                throw Errors.ArchiveIncomplete($"{wanted.Count} file(s) are missing from {Path.GetFileName(archivePath)} of {holder.Id}, e.g. '{wanted.Keys.First()}'.", archivePath);
        }
        foreach (var l in entries.Where(e => e.Kind == 'l'))
        {
            var (folder, name, parts) = Place(l.Path);
            dest.Live?.KeepAside(folder, name, parts);
            folder.CreateLink(name, l.Link!);
            if (parts.Length == 0 && dest.Made is { } made) made(folder.StatAt(name) ?? throw new IOException($"'{dest.Shown}' vanished as soon as it was made."));
            var (uid, gid) = policy.Owner(l);
            folder.SetOwnerAndTimeAt(name, uid, gid, l.MtimeNs);
        }
        // Deepest first (a folder after everything below it, which reverse ordinal order gives), so that
        // restricting a folder's mode cannot stop the restore reaching those below it.
        foreach (var d in entries.Where(e => e.Kind == 'd').OrderByDescending(e => e.Path, StringComparer.Ordinal))
        {
            var parts = PartsBelow(prefix, d.Path);
            ApplyMetadata(parts.Length == 0 ? dest.Folder : cursor.At(parts, parts.Length)!, d, policy);
        }
        // The data dir itself: eXo must own it again, or it cannot write there.
        if (prefix.Length == 0 && rootStat is not null && dest.Live is null) ApplyMetadata(dest.Folder, rootStat, policy);
        log.Progress(new ProgressUpdate(o.ProgressId, activity, "done", ParentActivityId: o.ParentProgressId, Completed: true));
        return (count, done);
    }

    static PartRecord PartOf(SnapshotEntry s, string component) =>
        s.Manifest.Parts.FirstOrDefault(p => p.Component == component && p.IsTree && p.Tree is { Archive: not null, Index: not null })
        ?? throw Errors.PartNotFound(s.Id, component);

    /// <summary>A restored file's owner, mode and mtime, on its descriptor once it is written.</summary>
    static void ApplyMetadata(FileStream file, string shown, IndexEntry e, MetadataPolicy policy)
    {
        var (uid, gid) = policy.Owner(e);
        WritableFolder.SetMetadata(file, shown, uid, gid, policy.Mode(e), e.MtimeNs);
    }

    /// <summary>A restored folder's owner, mode and mtime, on its descriptor.</summary>
    static void ApplyMetadata(WritableFolder folder, IndexEntry e, MetadataPolicy policy)
    {
        var (uid, gid) = policy.Owner(e);
        folder.SetMetadata(uid, gid, policy.Mode(e), e.MtimeNs);
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
                throw Errors.UnsafeArchiveEntry(e.Path, $"is of kind '{e.Kind}', not a file, folder or link (ExoBackup never stores devices)");
            var parts = e.Path.Split('/');
            if (e.Path.StartsWith('/') || e.Path.Contains('\\') || e.Path.Contains('\0') || (e.Path.Length > 1 && e.Path[1] == ':')
                || parts.Any(p => p is "" or "." or ".."))
                throw Errors.UnsafeArchiveEntry(e.Path, "is absolute or contains '..' or an empty part");
            for (var i = 1; i < parts.Length; i++)
            {
                var ancestor = string.Join('/', parts, 0, i);
                if (kinds.TryGetValue(ancestor, out var k) && k != 'd')
                    throw Errors.UnsafeArchiveEntry(e.Path, $"lies under '{ancestor}', which is not a folder");
            }
            if (e.Kind == 'l')
            {
                var link = e.Link ?? "";
                var root = rootSet.Where(r => r.Length == 0 || e.Path == r || e.Path.StartsWith(r + "/", StringComparison.Ordinal)).MaxBy(r => r.Length) ?? "";
                if (link.Length == 0 || link.StartsWith('/') || link.Contains('\\') || (link.Length > 1 && link[1] == ':'))
                    throw Errors.UnsafeArchiveEntry(e.Path, $"is a link to '{link}', outside the restored tree");
                if (Resolve(e.Path, root, links) is { } why) throw Errors.UnsafeArchiveEntry(e.Path, $"is a link to '{link}', {why}");
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
                throw Errors.UnsafeArchiveEntry(e.Path, $"differs from '{seen[e.Path]}' only by case, and the target's file system does not tell them apart");
    }

    /// <summary>Whether the folder's file system ignores case: a probe file is looked up under its upper-case name.</summary>
    public static bool IsCaseInsensitive(string folder)
    {
        try
        {
            using var open = WritableFolder.TryOpenPath(folder);
            if (open is not null) return IsCaseInsensitive(open);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { }
        return IsCaseInsensitive((WritableFolder?)null);
    }

    /// <summary>The probe in a folder open as a descriptor; where none can be made (read-only), what the platform's usual file systems do.</summary>
    static bool IsCaseInsensitive(WritableFolder? folder) => folder?.IgnoresCase() ?? (OperatingSystem.IsWindows() || OperatingSystem.IsMacOS());
}
