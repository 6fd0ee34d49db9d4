using ExoBackup.Engine.Hashing;
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using ExoBackup.Engine.IO;
using ExoBackup.Engine.Repository;
using Microsoft.Win32.SafeHandles;

namespace ExoBackup.Engine.Archive;

/// <summary>A folder or file to back up, and the path it takes in the archive ("" for the data dir itself).</summary>
public sealed record TreeRoot(string Prefix, string Source);

public sealed record TreeBackupOptions
{
    public CompressionKind Compression { get; init; } = CompressionKind.Zstd;
    public int Level { get; init; } = 3;
    /// <summary>Compare content (SHA-256), not only size and mtime, to find changed files.</summary>
    public bool CompareContent { get; init; }
    public bool SkipUnreadable { get; init; }
    public Func<string, bool> Excluded { get; init; } = _ => false;
    public int ProgressId { get; init; } = 1;
    public int ParentProgressId { get; init; } = -1;
}

/// <summary>
/// Backs up file trees as one pax tar (compressed) plus a complete index. With a parent index, only
/// files whose size or mtime changed, or whose ctime, inode or device changed along with their content
/// (or, with CompareContent, any content change) go into the archive; the
/// others point at the archive that already holds them. Memory follows the file count (the parent
/// index), never the data size: files are streamed through the tar writer and the compressor.
/// </summary>
public static class TreeBackup
{
    public static PartRecord Run(string component, string fileBase, SnapshotEntry snapshot, IReadOnlyList<TreeRoot> roots,
        FileIndex? parent, TreeBackupOptions o, IOperationLog log, CancellationToken ct)
    {
        var activity = $"Backing up {component} into {snapshot.Id}";
        var unreadable = new List<(string Path, string Why)>();
        void Unreadable(string path, Exception e) => unreadable.Add((path, e.Message));

        var phase = Stopwatch.StartNew();
        // A full part walks the tree once first: how much will be written, for progress with a time
        // left, and every unreadable path before anything is written. An incremental part skips that
        // walk (it would cost as much as the part) and measures progress against the parent's items.
        long bytesToWrite = 0;
        if (parent is null)
            foreach (var item in ScanAll(roots, o.Excluded, Unreadable, ct))
            {
                if (item.Stat.Type != EntryType.File) continue;
                bytesToWrite += item.Stat.Size;
                if (!item.CanRead()) unreadable.Add((item.FullPath, "permission denied"));
            }
        if (unreadable.Count > 0 && !o.SkipUnreadable)
            throw Errors.SourceUnreadable($"{unreadable.Count} path(s) of {component} cannot be read: {string.Join("; ", unreadable.Take(5).Select(u => $"{u.Path} ({u.Why})"))}{(unreadable.Count > 5 ? "; …" : "")}",
                unreadable[0].Path, null);

        var scanTime = phase.Elapsed;
        var ext = Compression.Extension(o.Compression);
        var archiveName = $"{fileBase}.tar{ext}";
        var indexName = $"{fileBase}.index.jsonl.zst";
        var archivePath = Path.Combine(snapshot.Path, archiveName);
        var part = new PartRecord { Component = component, Name = component, Tool = "ExoBackup pax tar", ToolVersion = "1" };
        part.Tree.Compression = o.Compression == CompressionKind.Zstd ? "zstd (" + Compression.ZstdImplementation + ")" : o.Compression.ToString().ToLowerInvariant();
        part.Tree.Level = o.Level;
        part.Tree.Mode = parent is null ? "full" : $"changes since {parent.Header.Snapshot}";
        var entries = new List<IndexEntry>();
        long bytesWritten = 0, sourceBytes = 0, written = 0, items = 0;
        var watch = Stopwatch.StartNew();
        var lastReport = 0L;

        // Two stages, so both cores work: a reader walks the tree, reads and hashes the files to
        // archive; this thread writes the tar stream into the compressor (whose workers compress).
        // At most 64 chunks (64 MiB) are in flight, so memory does not follow the data size.
        using var queue = new BlockingCollection<Work>(64);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(() =>
        {
            try { Read(roots, parent, o, part, snapshot.Id, queue, stop.Token); }
            finally { queue.CompleteAdding(); }
        });

        using (var file = SnapshotRepository.CreateFile(archivePath))
        using (var hashing = new HashingWriteStream(file))
        {
            // Not a using: a failed or cancelled part must stop at once, and disposing a zstd stream
            // first compresses all it holds (seconds at high levels). An abandoned one is left to the GC.
            var compressed = Compression.Compress(hashing, o.Compression, o.Level, leaveOpen: true);
            var tar = new PaxTarWriter(compressed);
            try
            {
                ScanItem current = default;
                foreach (var w in queue.GetConsumingEnumerable(stop.Token))
                {
                    switch (w.Kind)
                    {
                        case WorkKind.Entry:
                            items++;
                            if (w.Entry!.Kind == 'd') tar.WriteDirectory(w.Item.Path, w.Item.Stat);
                            else if (w.Entry.Kind == 'l') tar.WriteSymlink(w.Item.Path, w.Entry.Link!, w.Item.Stat);
                            else sourceBytes += w.Entry.Size;
                            entries.Add(w.Entry);
                            break;
                        case WorkKind.FileStart:
                            current = w.Item;
                            tar.WriteFileHeader(w.Item.Path, w.Item.Stat, w.Item.Stat.Size);
                            break;
                        case WorkKind.Chunk:
                            compressed.Write(w.Buffer!, 0, w.Length);
                            bytesWritten += w.Length;
                            ArrayPool<byte>.Shared.Return(w.Buffer!);
                            break;
                        case WorkKind.FileEnd:
                            items++;
                            written++;
                            sourceBytes += current.Stat.Size;
                            tar.EndFile(current.Stat.Size);
                            entries.Add(w.Entry!);
                            if (watch.ElapsedMilliseconds - lastReport > 200)
                            {
                                lastReport = watch.ElapsedMilliseconds;
                                Report(log, o, activity, bytesWritten, bytesToWrite, items, parent?.Entries.Count ?? 0, watch.Elapsed);
                            }
                            break;
                    }
                }
                reader.GetAwaiter().GetResult(); // the reader's error, if any
                tar.Finish();
                compressed.Dispose();
            }
            catch
            {
                stop.Cancel();
                try { reader.Wait(); } catch (AggregateException) { }
                foreach (var w in queue) if (w.Buffer is not null) ArrayPool<byte>.Shared.Return(w.Buffer);
                throw;
            }
            hashing.Flush();
            file.Flush(true);
            part.Files.Add(new PartFile { Path = archiveName, Size = hashing.Length64, Sha256 = hashing.HashHex() });
        }
        var archiveTime = phase.Elapsed - scanTime;
        log.Progress(new ProgressUpdate(o.ProgressId, activity, "done", ParentActivityId: o.ParentProgressId, Completed: true));

        var present = new HashSet<string>(entries.Select(x => x.Path), StringComparer.Ordinal);
        var deleted = parent is null ? [] : parent.Entries.Keys.Where(k => !present.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var header = new IndexHeader { HashAlgorithm = ContentHash.Algorithm, Snapshot = snapshot.Id, Parent = parent?.Header.Snapshot, Roots = roots.ToDictionary(r => r.Prefix, r => r.Source) };
        if (roots.FirstOrDefault(r => r.Prefix.Length == 0) is { } main)
        {
            var rs = FileStatReader.Get(main.Source);
            header.RootStat = new IndexEntry { Path = "", Kind = 'd', Mode = rs.Mode, Uid = rs.Uid, Gid = rs.Gid, MtimeNs = rs.MtimeNs };
        }
        part.Files.Add(WriteHashed(snapshot.Path, indexName, s =>
        {
            using var z = Compression.Compress(s, CompressionKind.Zstd, 3, leaveOpen: true);
            FileIndex.Write(z, header, entries, deleted);
        }));
        if (deleted.Count > 0)
        {
            // For a restore by hand: `xargs -d '\n' -a datadir.deleted.txt rm -rf --` after extracting the chain.
            part.Files.Add(WriteHashed(snapshot.Path, $"{fileBase}.deleted.txt", s =>
            {
                using var w = new StreamWriter(s, leaveOpen: true) { NewLine = "\n" };
                foreach (var d in deleted) w.WriteLine(d);
            }));
        }
        part.SourceBytes = sourceBytes;
        part.ItemCount = items;
        part.ChangedItems = written;
        part.DeletedItems = deleted.Count;
        part.StoredBytes = part.Files.Sum(f => f.Size);
        part.Tree.BytesArchived = bytesWritten;
        part.Tree.Archive = archiveName;
        part.Tree.Index = indexName;
        log.Verbose($"{component}: {items} items, {written} file(s) archived ({bytesWritten:N0} bytes), {part.Tree.FilesRehashed} re-read and found unchanged, {deleted.Count} deleted since the parent, {part.StoredBytes:N0} bytes stored, in {phase.Elapsed.TotalSeconds:0.0} s (scan {scanTime.TotalSeconds:0.00} s, archive {archiveTime.TotalSeconds:0.00} s, index {(phase.Elapsed - scanTime - archiveTime).TotalSeconds:0.00} s).");
        return part;
    }

    enum WorkKind { Entry, FileStart, Chunk, FileEnd }

    /// <summary>One step for the tar writer: an entry that carries no data, a file's start, a chunk of it, its end.</summary>
    readonly record struct Work(WorkKind Kind, ScanItem Item, IndexEntry? Entry, byte[]? Buffer = null, int Length = 0);

    /// <summary>The reader stage: decides what changed, reads and hashes what must be archived.</summary>
    static void Read(IReadOnlyList<TreeRoot> roots, FileIndex? parent, TreeBackupOptions o, PartRecord part, string snapshotId, BlockingCollection<Work> queue, CancellationToken ct)
    {
        // A full part found these in its first walk; an incremental one finds them here.
        void Unreadable(string path, Exception e)
        {
            if (!o.SkipUnreadable)
                throw Errors.SourceUnreadable($"'{path}' cannot be read: {e.Message}", path, e);
            lock (part) part.Skipped.Add($"{path}: unreadable ({e.Message})");
        }
        // One byte to see whether a file grew while it was read. Not stackalloc: in this loop that
        // would take stack for every file until the method returns (a stack overflow at a million files).
        var probe = new byte[1];
        long rehashed = 0;
        foreach (var listed in ScanAll(roots, o.Excluded, Unreadable, ct))
        {
            ct.ThrowIfCancellationRequested();
            var item = listed;
            var st = item.Stat;
            var e = EntryOf(item);
            switch (st.Type)
            {
                case EntryType.Directory:
                    queue.Add(new Work(WorkKind.Entry, item, e), ct);
                    continue;
                case EntryType.Symlink:
                    e.Link = item.Link ?? "";
                    queue.Add(new Work(WorkKind.Entry, item, e), ct);
                    continue;
                case EntryType.Other:
                    lock (part) part.Skipped.Add($"{item.Path}: not a file, folder or link (device, socket or FIFO)");
                    continue;
            }
            e.Size = st.Size;
            (e.CtimeNs, e.Inode, e.Device) = (st.CtimeNs, st.Inode, st.Device);
            var before = parent?.Entries.GetValueOrDefault(item.Path);
            var change = Compare(before, st);
            // Only ctime, inode or device moved (a chmod, a restore, a copy that kept the mtime): the
            // content may or may not differ, so it is read and hashed, and stored again only if it does.
            if (change != Change.Content && ((change == Change.None && !o.CompareContent) || SameContent(item, before!.Hash!)))
            {
                if (change != Change.None || o.CompareContent) rehashed++;
                e.Hash = before!.Hash;
                e.Archive = before.Archive;
                queue.Add(new Work(WorkKind.Entry, item, e), ct);
                continue;
            }
            // Opened relative to the folder the walk listed it from, without following a link, and
            // checked to be the file the walk saw: what the archive holds under this name is never
            // what a link swapped in since points to (a root-only file under the eXo account's name).
            SourceOpen opened;
            SafeFileHandle? source;
            FileStat now;
            try { opened = item.Open(out source, out now); }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                if (!o.SkipUnreadable)
                    throw Errors.SourceUnreadable($"'{item.FullPath}' cannot be read: {ex.Message}", item.FullPath, ex);
                lock (part) part.Skipped.Add($"{item.Path}: unreadable ({ex.Message})");
                continue;
            }
            var changed = false;
            switch (opened)
            {
                case SourceOpen.Gone:
                    continue; // deleted since it was listed
                case SourceOpen.Link or SourceOpen.NotAFile:
                    lock (part)
                    {
                        part.ChangedWhileRead.Add(item.Path);
                        part.Skipped.Add($"{item.Path}: replaced by {(opened == SourceOpen.Link ? "a link" : "something that is not a file")} after it was listed; not followed, not in this part");
                    }
                    continue;
                case SourceOpen.Replaced:
                    // Another file under the same name since the walk: that one is read, with its own metadata.
                    changed = true;
                    item = item with { Stat = now };
                    st = now;
                    e = EntryOf(item);
                    e.Size = st.Size;
                    (e.CtimeNs, e.Inode, e.Device) = (st.CtimeNs, st.Inode, st.Device);
                    break;
            }
            queue.Add(new Work(WorkKind.FileStart, item, null), ct);
            FileStat after = default;
            using (source)
            {
                var sha = ContentHash.Create();
                long left = st.Size, offset = 0;
                var shrank = false;
                while (left > 0)
                {
                    ct.ThrowIfCancellationRequested();
                    var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(ChunkSize, left));
                    var n = RandomAccess.Read(source!, buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)), offset);
                    if (n == 0)
                    {
                        // The file shrank while it was read: pad it to its announced size, and say so.
                        n = (int)Math.Min(buffer.Length, left);
                        Array.Clear(buffer, 0, n);
                        shrank = true;
                    }
                    else
                    {
                        sha.Append(buffer.AsSpan(0, n));
                        offset += n;
                    }
                    left -= n;
                    queue.Add(new Work(WorkKind.Chunk, item, null, buffer, n), ct);
                }
                if (!shrank && st.Size > 0 && RandomAccess.Read(source!, probe, offset) > 0) shrank = true; // it grew
                changed |= shrank;
                e.Hash = ContentHash.Hex(sha);
                // The descriptor read (fstat), not the name, which may hold another file by now.
                try { after = item.StatOpen(source!); } catch (Exception) { }
            }
            e.Archive = snapshotId;
            if (changed || after.Size != st.Size || after.MtimeNs != st.MtimeNs) lock (part) part.ChangedWhileRead.Add(item.Path);
            queue.Add(new Work(WorkKind.FileEnd, item, e), ct);
        }
        // Read, hashed and found the same as the parent's: not archived again (the main thread reads this after the reader ends).
        part.Tree.FilesRehashed = rehashed;
    }

    const int ChunkSize = 1 << 20;

    static PartFile WriteHashed(string dir, string name, Action<Stream> write)
    {
        using var file = SnapshotRepository.CreateFile(Path.Combine(dir, name));
        using var hashing = new HashingWriteStream(file);
        write(hashing);
        hashing.Flush();
        file.Flush(true);
        return new PartFile { Path = name, Size = hashing.Length64, Sha256 = hashing.HashHex() };
    }

    /// <summary>
    /// A time left only once the rate means something: after a second and two percent. Before,
    /// the first files' rate (a cold cache, the first large file) once said 53 minutes for a 2-minute backup.
    /// </summary>
    static int TimeLeft(double done, double total, TimeSpan elapsed) =>
        elapsed.TotalSeconds >= 1 && done >= total / 50 && done > 0 && total > done ? (int)((total - done) * elapsed.TotalSeconds / done) : -1;

    static void Report(IOperationLog log, TreeBackupOptions o, string activity, long done, long total, long items, long expectedItems, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        if (total > 0)
        {
            var left = TimeLeft(done, total, elapsed);
            log.Progress(new ProgressUpdate(o.ProgressId, activity,
                $"{Units.Bytes(done)} of {Units.Bytes(total)}, {items:N0} items, {Units.Bytes((long)rate)}/s",
                (int)Math.Min(100, 100 * done / total), left, o.ParentProgressId));
            return;
        }
        log.Progress(new ProgressUpdate(o.ProgressId, activity,
            $"{items:N0} of about {expectedItems:N0} items, {Units.Bytes(done)} changed, {Units.Bytes((long)rate)}/s",
            expectedItems > 0 ? (int)Math.Min(99, 100 * items / expectedItems) : -1,
            TimeLeft(items, expectedItems, elapsed), o.ParentProgressId));
    }

    enum Change { None, Identity, Content }

    /// <summary>
    /// What restic and borg compare: a file is unchanged only if size, mtime, ctime, inode and device all
    /// match its parent entry. Size or mtime differ: new content. Only the others differ (or the parent
    /// entry predates them): maybe the same content, which the caller checks by its hash.
    /// </summary>
    static Change Compare(IndexEntry? before, in FileStat st)
    {
        if (before is null || before.Kind != 'f' || before.Size != st.Size || before.MtimeNs != st.MtimeNs) return Change.Content;
        return before.CtimeNs == st.CtimeNs && before.Inode == st.Inode && before.Device == st.Device && before.CtimeNs != 0
            ? Change.None : Change.Identity;
    }

    static IndexEntry EntryOf(in ScanItem item) => new()
    {
        Path = item.Path, Kind = (char)(byte)item.Stat.Type, Mode = item.Stat.Mode, Uid = item.Stat.Uid, Gid = item.Stat.Gid, MtimeNs = item.Stat.MtimeNs,
    };

    /// <summary>Whether the file (opened as for archiving it, and only if still the one listed) hashes to <paramref name="hash"/>.</summary>
    static bool SameContent(in ScanItem item, string hash)
    {
        try
        {
            var opened = item.Open(out var file, out _);
            using (file)
            {
                if (opened != SourceOpen.Same) return false; // read again, and dealt with, by the caller
                var h = ContentHash.Create();
                var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    for (long offset = 0; RandomAccess.Read(file!, buffer, offset) is var n and > 0; offset += n) h.Append(buffer.AsSpan(0, n));
                }
                finally { ArrayPool<byte>.Shared.Return(buffer); }
                return ContentHash.Hex(h).Equals(hash, StringComparison.OrdinalIgnoreCase);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static IEnumerable<ScanItem> ScanAll(IReadOnlyList<TreeRoot> roots, Func<string, bool> excluded, Action<string, Exception> unreadable, CancellationToken ct)
    {
        // A root under a prefix is an entry itself (a folder, or a file such as conf/server.xml); the data dir's ("") is not.
        foreach (var root in roots)
            foreach (var item in TreeScanner.Scan(root.Source, root.Prefix, excluded, unreadable, ct, includeRoot: root.Prefix.Length > 0))
                yield return item;
    }
}
