using ExoBackup.Engine.IO;
using Microsoft.Win32.SafeHandles;

namespace ExoBackup.Engine.Archive;

/// <summary>
/// One path found under a backup root. On Linux it carries the folder it was listed from, open as a
/// descriptor while the walk is in that folder, and its name there: the file is opened relative to that
/// folder, never by <see cref="FullPath"/> (which only names it in messages).
/// </summary>
public readonly record struct ScanItem(string Path, string FullPath, FileStat Stat, string? Link,
    DirectoryHandle? Folder = null, byte[]? Name = null)
{
    /// <summary>
    /// Opens the file to read it: openat(O_NOFOLLOW) from its folder, checked (fstat) to be the file
    /// the walk saw; by path where there are no folder descriptors. <paramref name="now"/> is what was opened.
    /// </summary>
    public SourceOpen Open(out SafeFileHandle? file, out FileStat now)
    {
        if (Folder is not null) return TreeWalker.OpenFile(Folder, Name!, FullPath, Stat, out file, out now);
        now = Stat;
        try { file = File.OpenHandle(FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan); }
        catch (FileNotFoundException) { file = null; return SourceOpen.Gone; }
        return SourceOpen.Same;
    }

    /// <summary>What the file open as <paramref name="file"/> is now, to tell whether it changed while read.</summary>
    public FileStat StatOpen(SafeFileHandle file) => Folder is not null ? TreeWalker.Stat(file, FullPath) : FileStatReader.Get(FullPath);

    /// <summary>Whether this process may read the file (access(2), asked only when the mode does not say so already).</summary>
    public bool CanRead() => Folder is not null ? TreeWalker.CanRead(Folder, Name!, Stat) : FileStatReader.CanRead(FullPath, Stat);
}

/// <summary>
/// Walks a tree without following links, in ordinal order (directories before their contents),
/// so archives and indexes are deterministic. An unreadable entry is reported, not skipped silently.
/// On Linux it walks through folder descriptors (IO.TreeWalker): no path is resolved again between
/// the stat and the open, and no depth limit; elsewhere by path.
/// </summary>
public static class TreeScanner
{
    /// <summary>
    /// Everything under <paramref name="root"/>, named <paramref name="prefix"/>/…; with
    /// <paramref name="includeRoot"/> the root itself first, as <paramref name="prefix"/>. A root that
    /// does not exist gives nothing; one that is not a folder gives only itself (with includeRoot).
    /// </summary>
    public static IEnumerable<ScanItem> Scan(string root, string prefix, Func<string, bool> excluded,
        Action<string, Exception> unreadable, CancellationToken ct, bool includeRoot = false)
    {
        if (FileStatReader.Native)
            return TreeWalker.Walk(root, prefix, includeRoot, excluded, unreadable, ct)
                .Select(w => new ScanItem(w.Path, w.FullPath, w.Stat, w.Link, w.Folder, w.Name));
        return ScanByPath(root, prefix, excluded, unreadable, ct, includeRoot);
    }

    /// <summary>The walk by path, where there are no folder descriptors (and, in tests, what the descriptor walk must match).</summary>
    internal static IEnumerable<ScanItem> ScanByPath(string root, string prefix, Func<string, bool> excluded,
        Action<string, Exception> unreadable, CancellationToken ct, bool includeRoot)
    {
        FileStat rootStat;
        try { rootStat = FileStatReader.Get(root); }
        catch (FileNotFoundException) { yield break; }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException) { unreadable(root, e); yield break; }
        if (includeRoot)
            yield return new ScanItem(prefix, root, rootStat, rootStat.Type == EntryType.Symlink ? new FileInfo(root).LinkTarget : null);
        if (rootStat.Type != EntryType.Directory) yield break;
        var stack = new Stack<(string Full, string Rel)>();
        stack.Push((root, prefix));
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dir, rel) = stack.Pop();
            string[] names;
            try
            {
                names = Directory.GetFileSystemEntries(dir).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                unreadable(dir, e);
                continue;
            }
            var subdirs = new List<(string, string)>();
            foreach (var name in names)
            {
                var full = System.IO.Path.Combine(dir, name);
                var path = rel.Length == 0 ? name : rel + "/" + name;
                if (excluded(path)) continue;
                FileStat st;
                string? link = null;
                try
                {
                    st = FileStatReader.Get(full);
                    if (st.Type == EntryType.Symlink) link = new FileInfo(full).LinkTarget;
                }
                catch (FileNotFoundException) { continue; } // deleted since it was listed
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    unreadable(full, e);
                    continue;
                }
                yield return new ScanItem(path, full, st, link);
                if (st.Type == EntryType.Directory) subdirs.Add((full, path));
            }
            for (var i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
        }
    }

    /// <summary>Turns -Exclude patterns into a test on archive paths: '*' within a name, '**' across folders, '?' one character.</summary>
    public static Func<string, bool> Excluder(IEnumerable<string> exactPaths, IEnumerable<string> patterns)
    {
        var exact = new HashSet<string>(exactPaths, StringComparer.Ordinal);
        var regexes = patterns.Select(p =>
        {
            var re = System.Text.RegularExpressions.Regex.Escape(p.Replace('\\', '/').Trim('/'))
                .Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]");
            // A pattern without a slash matches a name at any depth, like .gitignore.
            return new System.Text.RegularExpressions.Regex(
                (p.Contains('/') ? "^" : "(^|/)") + re + "$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        }).ToArray();
        return path => exact.Contains(path) || regexes.Any(r => r.IsMatch(path));
    }
}
