using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.IO;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// The walk through folder descriptors (finding 2.5: the backup read through links swapped in after
/// lstat; 1.11: trees deeper than PATH_MAX): same items in the same order as the walk by path, a link
/// swapped in for a file or a folder is never followed, and a tree far past PATH_MAX is backed up.
/// </summary>
public class TreeWalkerTests : IDisposable
{
    readonly TempDir _dir = new("exo-walker");

    public void Dispose()
    {
        TreeDeleter.Delete(_dir.Path); // .NET's recursive delete cannot remove a tree deeper than PATH_MAX
        _dir.Dispose();
    }

    static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err}");
    }

    static List<ScanItem> Walk(string root, string prefix = "", bool includeRoot = false, Func<string, bool>? excluded = null, List<string>? unreadable = null) =>
        TreeScanner.Scan(root, prefix, excluded ?? (_ => false), (p, e) => (unreadable ?? throw new Xunit.Sdk.XunitException($"{p}: {e.Message}")).Add($"{p}: {e.Message}"), default, includeRoot).ToList();

    static List<(string, string, FileStat, string?)> Shape(IEnumerable<ScanItem> items) => items.Select(i => (i.Path, i.FullPath, i.Stat, i.Link)).ToList();

    [Fact]
    public void The_walk_gives_the_items_of_the_walk_by_path_in_the_same_order()
    {
        var root = Path.Combine(_dir.Path, "data");
        // Ordinal order of .NET strings (UTF-16), as before: U+1F600 (a surrogate pair, D83D…) sorts
        // before U+E000 there, while their UTF-8 bytes (F0… and EE…) sort the other way round.
        string[] names = ["B", "a", "a b", ".hidden", "Z", "é", "\uE000", "😀", "10", "9"];
        foreach (var n in names)
        {
            _dir.Write($"data/{n}/file-{n}.txt", n);
            _dir.Write($"data/{n}/sub/deeper/{n}.bin", n + n);
            _dir.Write($"data/top-{n}", n);
        }
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        File.CreateSymbolicLink(Path.Combine(root, "a", "to-file"), "file-a.txt");
        File.CreateSymbolicLink(Path.Combine(root, "a", "to-folder"), "../B");
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), "/nonexistent/target");
        Run("mkfifo", Path.Combine(root, "fifo"));
        File.SetUnixFileMode(Path.Combine(root, "top-a"), (UnixFileMode)0x1C0);
        Func<string, bool> excluded = p => p == "Z/sub" || p.EndsWith("/file-9.txt", StringComparison.Ordinal);

        var walked = Walk(root, "", excluded: excluded);
        var byPath = TreeScanner.ScanByPath(root, "", excluded, (p, e) => throw new Xunit.Sdk.XunitException(p), default, false).ToList();
        Assert.Equal(Shape(byPath), Shape(walked));
        Assert.True(walked.Count > 60);
        Assert.All(walked, i => Assert.NotNull(i.Folder));
        Assert.Equal("../B", walked.Single(i => i.Path == "a/to-folder").Link);
        Assert.Equal(EntryType.Other, walked.Single(i => i.Path == "fifo").Stat.Type);
        Assert.DoesNotContain(walked, i => i.Path.StartsWith("a/to-folder/", StringComparison.Ordinal)); // a link to a folder is not entered
        Assert.True(walked.FindIndex(i => i.Path == "😀") < walked.FindIndex(i => i.Path == "\uE000"));

        // Roots under a prefix: a folder, a file, a link, and one that is not there.
        foreach (var (source, prefix) in new[] { (Path.Combine(root, "a"), "_external/a"), (Path.Combine(root, "top-a"), "conf/top-a"),
                     (Path.Combine(root, "a", "to-folder"), "link-root"), (Path.Combine(root, "none"), "none"), (root + "/", "slash") })
            Assert.Equal(Shape(TreeScanner.ScanByPath(source, prefix, _ => false, (p, e) => throw new Xunit.Sdk.XunitException(p), default, true)),
                Shape(Walk(source, prefix, includeRoot: true)));
    }

    [Fact]
    public async Task A_link_put_in_place_of_a_listed_file_is_never_opened()
    {
        var secret = _dir.Write("secret.bin", "ROOT-ONLY-SECRET");
        var secretDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "secret-dir")).FullName;
        var folder = Path.Combine(_dir.Path, "tree");
        var f = _dir.Write("tree/f", "eXo's own data!!"); // the same size as the secret
        var walk = TreeScanner.Scan(folder, "", _ => false, (p, e) => throw new Xunit.Sdk.XunitException(p), default).GetEnumerator();
        Assert.True(walk.MoveNext());
        var item = walk.Current;
        Assert.Equal("f", item.Path);

        Assert.Equal(SourceOpen.Same, item.Open(out var same, out var now));
        using (same) Assert.Equal("eXo's own data!!", Read(same!));
        Assert.Equal(item.Stat, now);

        File.Move(f, f + ".aside");
        foreach (var target in new[] { secret, secretDir })
        {
            File.CreateSymbolicLink(f, target);
            // By path this open reads the secret: relative to the folder and with O_NOFOLLOW it fails (ELOOP).
            Assert.Equal(SourceOpen.Link, item.Open(out var file, out _));
            Assert.Null(file);
            File.Delete(f);
        }

        File.WriteAllText(f, "another file, another inode");
        Assert.Equal(SourceOpen.Replaced, item.Open(out var replaced, out now));
        using (replaced) Assert.Equal("another file, another inode", Read(replaced!));
        Assert.NotEqual(item.Stat.Inode, now.Inode);
        Assert.Equal(27, now.Size);
        File.Delete(f);

        Run("mkfifo", f);
        var opening = Task.Run(() => item.Open(out _, out _));
        Assert.Equal(SourceOpen.NotAFile, await opening.WaitAsync(TimeSpan.FromSeconds(10))); // a TimeoutException if it hung
        File.Delete(f);

        Assert.Equal(SourceOpen.Gone, item.Open(out var gone, out _));
        Assert.Null(gone);

        Assert.False(walk.MoveNext()); // only "f"
        walk.Dispose();
        Assert.True(item.Folder!.IsClosed); // the walk closed the folder when it was done with it…
        Assert.Throws<ObjectDisposedException>(() => item.Open(out _, out _)); // …and a late use cannot reach a reused descriptor
    }

    static string Read(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var buffer = new byte[256];
        return Encoding.UTF8.GetString(buffer, 0, RandomAccess.Read(file, buffer, 0));
    }

    [Fact]
    public void A_folder_swapped_for_a_link_while_the_walk_is_in_its_parent_is_not_entered()
    {
        var secretDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "secret-dir")).FullName;
        File.WriteAllText(Path.Combine(secretDir, "root-only.txt"), "secret");
        _dir.Write("tree/d/own.txt", "eXo's");
        _dir.Write("tree/e.txt", "eXo's");
        var root = Path.Combine(_dir.Path, "tree");

        List<string> Swapped(Func<IEnumerable<ScanItem>> walk)
        {
            var seen = new List<string>();
            foreach (var item in walk())
            {
                seen.Add(item.Path);
                if (item.Path != "d") continue;
                // Listed as a folder; before the walk goes in, the eXo account puts a link there.
                Directory.Move(Path.Combine(root, "d"), Path.Combine(root, "d.aside"));
                Directory.CreateSymbolicLink(Path.Combine(root, "d"), secretDir);
            }
            Directory.Delete(Path.Combine(root, "d"));
            Directory.Move(Path.Combine(root, "d.aside"), Path.Combine(root, "d"));
            return seen;
        }

        // What the walk by path did: it listed the link's target as the folder's content.
        Assert.Contains("d/root-only.txt", Swapped(() => TreeScanner.ScanByPath(root, "", _ => false, (p, e) => { }, default, false)));

        var unreadable = new List<string>();
        var seen = Swapped(() => TreeScanner.Scan(root, "", _ => false, (p, e) => unreadable.Add($"{p}: {e.Message}"), default));
        Assert.Equal(["d", "e.txt"], seen);
        Assert.Contains(unreadable, u => u.StartsWith(Path.Combine(root, "d") + ":", StringComparison.Ordinal) && u.Contains("is a link or a file now: it is not followed"));
    }

    (SnapshotRepository Repo, PlatformInfo Platform, string Data) Bundle()
    {
        _dir.Write("exo/start_eXo.sh", "#!/bin/bash\n");
        _dir.Write("exo/conf/server.xml", "<Server port=\"-1\"/>");
        var data = Path.Combine(_dir.Path, "exo", "gatein", "data");
        Directory.CreateDirectory(Path.Combine(data, "files"));
        var p = PlatformDiscovery.Discover(Path.Combine(_dir.Path, "exo"), new Dictionary<string, string> { ["HOME"] = "/root" });
        return (SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true), p, data);
    }

    static (PartRecord Part, FileIndex Index, byte[] Archive) FullBackup(SnapshotRepository repo, PlatformInfo p)
    {
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        var part = PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default);
        var index = FileIndex.Read(Path.Combine(s.Path, part.Tree.Index!));
        using var archive = Compression.OpenRead(Path.Combine(s.Path, part.Tree.Archive!));
        using var bytes = new MemoryStream();
        archive.CopyTo(bytes);
        repo.RemovePartial(s.Id);
        return (part, index, bytes.ToArray());
    }

    [Fact]
    public void A_file_swapped_for_a_link_to_a_root_only_file_between_the_walk_and_the_read_stays_out_of_the_archive()
    {
        // Finding 2.5: the eXo account truncates its file to the secret's size, and swaps it for a link
        // to the secret between the walk's stat and the open: the archive held root's file under its name.
        var (repo, p, data) = Bundle();
        var secret = _dir.Write("root-only/shadow", "ROOT-ONLY-SECRET-0123456789");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var own = Path.Combine(data, "files", "upload.bin");
        File.WriteAllText(own, new string('e', 27));
        File.WriteAllText(Path.Combine(data, "files", "other.bin"), "untouched");

        Action<string> swapOnce = shown =>
        {
            if (shown != own || !File.Exists(own) || new FileInfo(own).LinkTarget is not null) return;
            File.Move(own, own + ".aside");
            File.CreateSymbolicLink(own, secret);
        };
        TreeWalker.BeforeOpen.Value = swapOnce;
        try
        {
            var (part, index, archive) = FullBackup(repo, p);
            Assert.Equal(-1, archive.AsSpan().IndexOf("ROOT-ONLY-SECRET"u8));
            Assert.False(index.Entries.ContainsKey("files/upload.bin"));
            Assert.Equal("untouched".Length, index.Entries["files/other.bin"].Size);
            Assert.Contains("files/upload.bin", part.ChangedWhileRead);
            Assert.Contains(part.Skipped, s => s.StartsWith("files/upload.bin: replaced by a link after it was listed; not followed", StringComparison.Ordinal));
        }
        finally { TreeWalker.BeforeOpen.Value = null; }

        // Swapped for another file instead: that file is what is archived, with its own size, and the part says it changed.
        File.Delete(own);
        File.Move(own + ".aside", own);
        TreeWalker.BeforeOpen.Value = shown =>
        {
            if (shown != own || File.ReadAllText(own) == "replacement") return;
            File.Move(own, own + ".old");
            File.WriteAllText(own, "replacement");
        };
        try
        {
            var (part, index, archive) = FullBackup(repo, p);
            var entry = index.Entries["files/upload.bin"];
            Assert.Equal("replacement".Length, entry.Size);
            Assert.Equal(Convert.ToHexString(XxHash128.Hash("replacement"u8)).ToLowerInvariant(), entry.Hash);
            Assert.Equal(new FileInfo(own).Length, entry.Size);
            Assert.NotEqual(-1, archive.AsSpan().IndexOf("replacement"u8));
            Assert.Contains("files/upload.bin", part.ChangedWhileRead);
            Assert.Empty(part.Skipped);
        }
        finally { TreeWalker.BeforeOpen.Value = null; }
    }

    [Fact]
    public void A_tree_200_folders_deep_with_255_byte_names_is_walked_and_backed_up()
    {
        const int Depth = 200;
        var (repo, p, data) = Bundle();
        var content = Encoding.UTF8.GetBytes("at the bottom of a 51 KB path");
        var deepest = "files/" + DeepTree.Make(Path.Combine(data, "files"), Depth, "bottom.txt", content);
        Assert.True(deepest.Length > 50_000);

        var walked = Walk(data);
        Assert.Equal(Depth + 2, walked.Count); // files, 200 folders, the file
        var bottom = walked[^1];
        Assert.Equal(deepest, bottom.Path);
        Assert.Equal((EntryType.File, content.Length, 0x1A4), (bottom.Stat.Type, (int)bottom.Stat.Size, bottom.Stat.Mode));
        Assert.Equal(Path.Combine(data, deepest), bottom.FullPath);
        Assert.Throws<PathTooLongException>(() => File.ReadAllBytes(bottom.FullPath)); // by path it cannot be read at all

        // A full backup holds it, content included (the old walk failed the part with ExoBackup.SourceUnreadable).
        var (part, index, archive) = FullBackup(repo, p);
        Assert.Empty(part.Skipped);
        var entry = index.Entries[deepest];
        Assert.Equal(content.Length, entry.Size);
        Assert.Equal(Convert.ToHexString(XxHash128.Hash(content)).ToLowerInvariant(), entry.Hash);
        Assert.NotEqual(-1, archive.AsSpan().IndexOf(content));
        Assert.Equal(Depth, index.Entries.Count(e => e.Value.Kind == 'd' && e.Key.StartsWith("files/level-", StringComparison.Ordinal)));
    }
}
