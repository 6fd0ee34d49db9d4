namespace ExoBackup.Engine.Archive;

/// <summary>One path found under a backup root.</summary>
public readonly record struct ScanItem(string Path, string FullPath, FileStat Stat, string? Link);

/// <summary>
/// Walks a tree without following links, in ordinal order (directories before their contents),
/// so archives and indexes are deterministic. An unreadable entry is reported, not skipped silently.
/// </summary>
public static class TreeScanner
{
    public static IEnumerable<ScanItem> Scan(string root, string prefix, Func<string, bool> excluded,
        Action<string, Exception> unreadable, CancellationToken ct)
    {
        var stack = new Stack<(string Full, string Rel)>();
        stack.Push((root, prefix));
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dir, rel) = stack.Pop();
            string[] names;
            try
            {
                names = Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                unreadable(dir, e);
                continue;
            }
            // A name .NET could not decode came back with U+FFFD and names no file: report each by its
            // bytes. They cannot be kept byte for byte yet, so without -SkipUnreadable the part fails.
            if (names.Any(n => n.Contains('\uFFFD')))
                foreach (var raw in IO.RawDirectory.UndecodableNames(dir))
                    unreadable(Path.Combine(dir, raw), new IOException(
                        "its name is not valid UTF-8 (shown with \\x escapes), which ExoBackup cannot yet back up byte for byte" +
                        " (a folder: with all it holds); rename it to UTF-8 (convmv -f latin1 -t utf8), or use -SkipUnreadable to record it and go on"));
            var subdirs = new List<(string, string)>();
            foreach (var name in names)
            {
                var full = Path.Combine(dir, name);
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
