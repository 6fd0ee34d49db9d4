using ExoBackup.Engine.IO;
using System.Diagnostics;
using System.Security.Cryptography;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Engine.Tests;

/// <summary>Full, differential and incremental round trips of a data dir, compared byte for byte with mode and mtime.</summary>
public class TreeRoundTripTests : IDisposable
{
    readonly TempDir _dir = new("exo-roundtrip");
    string Data => Path.Combine(_dir.Path, "exo", "gatein", "data");
    string RepoPath => Path.Combine(_dir.Path, "repo");

    public void Dispose() => _dir.Dispose();

    PlatformInfo Platform() => new TestBundle(_dir).Folder("gatein/data").Discover();

    void Write(string rel, string text, DateTime? mtime = null)
    {
        var f = Path.Combine(Data, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(f)!);
        File.WriteAllText(f, text);
        if (mtime is not null) File.SetLastWriteTimeUtc(f, mtime.Value);
    }

    SnapshotEntry Backup(SnapshotRepository repo, PlatformInfo p, SnapshotType type, bool checksum = false)
    {
        var s = repo.Begin(type, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p,
            new DataDirOptions { Tree = new TreeBackupOptions { CompareContent = checksum } }, NullOperationLog.Instance, default), NullOperationLog.Instance);
        return repo.Complete(s.Id, false, NullOperationLog.Instance);
    }

    List<RestoredRoot> Restore(SnapshotRepository repo, SnapshotEntry s, string target, string? stamp = null) =>
        TreeRestore.Run(repo, s, PlatformFilesBackupService.DataDir, new TreeRestoreOptions
        {
            TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, null!, target), // as Restore-ExoSnapshot -DataDir
            Stamp = stamp ?? DateTime.UtcNow.ToString("yyyyMMddTHHmmssZ", System.Globalization.CultureInfo.InvariantCulture),
        }, NullOperationLog.Instance, default);

    static Dictionary<string, string> Describe(string root, params string[] skip)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var rel = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (skip.Any(s => rel == s || rel.StartsWith(s + "/"))) continue;
            var st = FileStatReader.Get(path);
            // Every field the index holds: kind, mode, owner, mtime to the nanosecond (links too), size, content, link target.
            var common = $"{Convert.ToString(st.Mode, 8)} {st.Uid}:{st.Gid} {st.MtimeNs}";
            var what = st.Type switch
            {
                EntryType.Symlink => $"l {common} {new FileInfo(path).LinkTarget}",
                EntryType.Directory => $"d {common}",
                _ => $"f {common} {st.Size} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}",
            };
            d[rel] = what;
        }
        return d;
    }

    static void AssertSameTree(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var k in expected.Keys) Assert.True(expected[k] == actual[k], $"{k}: expected {expected[k]}, got {actual[k]}");
    }

    void Populate()
    {
        var t = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567);
        Write("jcr/values/collaboration_portal/a/b/value1.bin", new string('x', 100_000), t);
        Write("jcr/index/social_portal/segments_1", "segment", t);
        Write("files/empty.bin", "", t);
        Write("files/ünïcödé ñame — 文件.txt", "unicode", t);
        Write("files/" + string.Join("/", Enumerable.Repeat("very-long-folder-name-abcdefghij", 8)) + "/" + new string('n', 200) + ".dat", "deep", t);
        Write("hsql/exo-plf.script", "CREATE TABLE X", t);
        Write("jcr/swap/collaboration_portal/swap.tmp", "swap", t);
        Write("jta/store", "tx", t);
        Directory.CreateDirectory(Path.Combine(Data, "files", "empty-dir"));
        File.CreateSymbolicLink(Path.Combine(Data, "files", "link-to-value"), "../jcr/values/collaboration_portal/a/b/value1.bin");
        File.SetUnixFileMode(Path.Combine(Data, "hsql", "exo-plf.script"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(Path.Combine(Data, "files", "empty.bin"), (UnixFileMode)0x1ED);
        // Times below 100 ns, and links with times of their own (a restore used to give links the time of the restore).
        Directory.CreateDirectory(Path.Combine(Data, "files", "dir-target"));
        File.CreateSymbolicLink(Path.Combine(Data, "files", "link-to-dir"), "dir-target");
        Touch("jcr/index/social_portal/segments_1", "@1767323045.123456789");
        Touch("files/link-to-value", "@1700000000.987654321");
        Touch("files/link-to-dir", "@1600000000.000000007");
        Touch("files/dir-target", "@1500000000.5");
    }

    void Touch(string rel, string when)
    {
        using var touch = Process.Start(new ProcessStartInfo("touch", ["-h", "-d", when, Path.Combine(Data, rel)]) { UseShellExecute = false })!;
        touch.WaitForExit();
        Assert.Equal(0, touch.ExitCode);
    }

    [Fact]
    public void Full_backup_restores_the_same_tree_without_swap_and_jta()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = Backup(repo, p, SnapshotType.Full);
        Assert.Equal(Consistency.Offline, s.Manifest.Consistency);
        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, s, target);
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target));
        Assert.False(Directory.Exists(Path.Combine(target, "jcr", "swap")));
    }

    [Fact]
    public void Gnu_tar_reads_the_archive()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = Backup(repo, p, SnapshotType.Full);
        var outDir = Path.Combine(_dir.Path, "by-hand");
        Directory.CreateDirectory(outDir);
        using var tar = Process.Start(new ProcessStartInfo("tar", ["--zstd", "-xf", Path.Combine(s.Path, "datadir.tar.zst"), "-C", outDir]) { RedirectStandardError = true })!;
        var err = tar.StandardError.ReadToEnd();
        tar.WaitForExit();
        Assert.True(tar.ExitCode == 0, err);
        // GNU tar keeps whole seconds from ustar headers; compare content and kind only.
        static Dictionary<string, string> Content(Dictionary<string, string> d) => d.ToDictionary(k => k.Key, k => k.Value.StartsWith("f ") ? k.Value.Split(' ')[^1] : k.Value[0].ToString());
        AssertSameTree(Content(Describe(Data, "jcr/swap", "jta")), Content(Describe(outDir)));
    }

    [Fact]
    public void Sha256sums_verifies_with_sha256sum()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = Backup(repo, p, SnapshotType.Full);
        using var proc = Process.Start(new ProcessStartInfo("sha256sum", ["-c", "--quiet", "SHA256SUMS"]) { WorkingDirectory = s.Path, RedirectStandardOutput = true })!;
        proc.WaitForExit();
        Assert.Equal(0, proc.ExitCode);
    }

    [Fact]
    public void Full_then_two_incrementals_with_adds_edits_deletes_renames_and_type_changes()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);

        Write("files/new.txt", "new file");
        Write("jcr/index/social_portal/segments_1", "segment changed, same folder");
        File.Move(Path.Combine(Data, "hsql", "exo-plf.script"), Path.Combine(Data, "hsql", "exo-plf.renamed"));
        File.Delete(Path.Combine(Data, "files", "empty.bin"));
        Directory.CreateDirectory(Path.Combine(Data, "files", "empty.bin")); // file -> dir
        File.Delete(Path.Combine(Data, "files", "link-to-value"));
        Write("files/link-to-value", "link -> file");
        var inc1 = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(full.Id, inc1.Manifest.Parent);
        Assert.True(inc1.Manifest.Parts[0].ChangedItems <= 4, $"changed {inc1.Manifest.Parts[0].ChangedItems}");
        Assert.True(inc1.Manifest.Parts[0].DeletedItems >= 1);

        Directory.Delete(Path.Combine(Data, "jcr", "index"), true);
        File.CreateSymbolicLink(Path.Combine(Data, "jcr", "index"), "values"); // dir -> link
        Directory.Delete(Path.Combine(Data, "files", "empty-dir"));
        Write("files/new.txt", "new file, edited in the second incremental");
        var inc2 = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(inc1.Id, inc2.Manifest.Parent);

        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, inc2, target);
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target));
    }

    [Fact]
    public void Differential_builds_on_the_full_and_nothing_changed_archives_nothing()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        var inc = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(0, inc.Manifest.Parts[0].ChangedItems);
        Write("files/after.txt", "after");
        var diff = Backup(repo, p, SnapshotType.Differential);
        Assert.Equal(full.Id, diff.Manifest.Parent);
        Assert.Equal(1, diff.Manifest.Parts[0].ChangedItems);
        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, diff, target);
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target));
    }

    [Fact]
    public void A_restore_elsewhere_brings_file_storage_kept_outside_the_data_dir_inside_the_new_one()
    {
        // Finding 1.2: the external root was staged inside the new data dir, which the swap then moved away.
        var external = Path.Combine(_dir.Path, "srv", "exo-files");
        _dir.Write("exo/gatein/conf/exo.properties", $"exo.files.storage.dir={external}\n");
        var p = Platform();
        Populate();
        for (var i = 0; i < 5; i++)
        {
            var f = Path.Combine(external, "00", $"upload-{i}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(f)!);
            File.WriteAllText(f, $"upload {i}");
        }
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        var index = FileIndex.Read(Path.Combine(full.Path, full.Manifest.Parts[0].Tree.Index!));
        Assert.Contains("_external/files", index.Header.Roots.Keys);

        var target = Path.Combine(_dir.Path, "new-server", "data");
        var roots = Restore(repo, full, target);
        AssertSameTree(Describe(external), Describe(Path.Combine(target, "_external", "files")));
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target, "_external"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!, "*.restore-*", SearchOption.AllDirectories));
        Assert.All(roots, r => Assert.Null(r.PreviousKeptAt));

        // Over the new data dir: the one it replaces is kept whole, its file storage inside.
        File.WriteAllText(Path.Combine(target, "_external", "files", "00", "upload-0.bin"), "changed on the new server");
        var again = Restore(repo, full, target, "20991231T000000Z");
        var kept = again.Single(r => r.Prefix.Length == 0).PreviousKeptAt!;
        Assert.Equal("changed on the new server", File.ReadAllText(Path.Combine(kept, "_external", "files", "00", "upload-0.bin")));
        Assert.Equal(Path.Combine(kept, "_external", "files"), again.Single(r => r.Prefix == "_external/files").PreviousKeptAt);
        Assert.Equal("upload 0", File.ReadAllText(Path.Combine(target, "_external", "files", "00", "upload-0.bin")));
    }

    [Fact]
    public void Names_that_are_not_utf8_fail_the_part_naming_them_or_are_recorded_with_skip_unreadable()
    {
        // Finding 1.4: such a file, and a whole folder with its subtree, were left out with no word.
        var p = Platform();
        Populate();
        using (var sh = Process.Start(new ProcessStartInfo("bash", ["-c",
            "cd \"$1\" && e=$(printf '\\351') && mkdir -p 00 \"caf$e/sub\" && printf x > \"00/report-${e}t$e.bin\" && printf y > \"caf$e/sub/doc.bin\"",
            "bash", Path.Combine(Data, "files")]) { UseShellExecute = false })!) { sh.WaitForExit(); Assert.Equal(0, sh.ExitCode); }
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        var e = Assert.Throws<ExoBackupException>(() => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default));
        Assert.Equal("ExoBackup.SourceUnreadable", e.ErrorId);
        Assert.Contains("files/00/report-\\xE9t\\xE9.bin", e.Message);
        Assert.Contains("files/caf\\xE9", e.Message);
        repo.RemovePartial(s.Id);

        var skipping = new DataDirOptions { Tree = new TreeBackupOptions { SkipUnreadable = true } };
        s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        var part = PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, skipping, NullOperationLog.Instance, default), NullOperationLog.Instance);
        Assert.Equal(2, part.Skipped.Count(x => x.Contains("not valid UTF-8")));
        var full = repo.Complete(s.Id, false, NullOperationLog.Instance);

        // An incremental (one walk, no first pass) stops at them too.
        var inc = repo.Begin(SnapshotType.Incremental, p, false, NullOperationLog.Instance);
        Assert.Equal("ExoBackup.SourceUnreadable", Assert.Throws<ExoBackupException>(() =>
            PlatformFilesBackupService.BackupDataDir(repo, inc, p, new DataDirOptions(), NullOperationLog.Instance, default)).ErrorId);
        repo.RemovePartial(inc.Id);
        Assert.Equal(full.Id, repo.List().Single().Id);
    }

    [Fact]
    public void Owners_and_setuid_bits_from_the_index_are_not_applied_unless_asked()
    {
        // Finding 3.3: an index naming uid 0 and mode 04755 restored a setuid-root file, and a 0777 folder as such.
        if (!FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (it changes owners)");
        var p = Platform();
        Write("files/tool.bin", "a writer's program");
        File.SetUnixFileMode(Path.Combine(Data, "files", "tool.bin"), (UnixFileMode)0x9ED); // 04755
        Directory.CreateDirectory(Path.Combine(Data, "files", "ww"));
        File.SetUnixFileMode(Path.Combine(Data, "files", "ww"), (UnixFileMode)0x1FF);        // 0777
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);                                       // the index says uid 0 for all
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, "exo-home")).FullName;  // the eXo account's folder
        FileStatReader.SetOwner(home, 65534, 65534);
        var log = new WarningLog();
        var target = Path.Combine(home, "data");
        TreeRestore.Run(repo, full, PlatformFilesBackupService.DataDir, new TreeRestoreOptions { TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, null!, target) }, log, default);
        var tool = FileStatReader.Get(Path.Combine(target, "files", "tool.bin"));
        Assert.Equal((0x1ED, 65534, 65534), (tool.Mode, tool.Uid, tool.Gid));               // 0755, the eXo account's
        var ww = FileStatReader.Get(Path.Combine(target, "files", "ww"));
        Assert.Equal((0x1FD, 65534), (ww.Mode, ww.Uid));                                     // 0775
        Assert.Equal(65534, FileStatReader.Get(target).Uid);
        Assert.True(log.Warnings.Any(w => w.Contains("owner other than") && w.Contains("65534:65534")), string.Join(" / ", log.Warnings));
        Assert.Contains(log.Warnings, w => w.Contains("2 entr(ies) had setuid"));

        // Asked for: as the index says.
        var exact = Path.Combine(home, "exact");
        TreeRestore.Run(repo, full, PlatformFilesBackupService.DataDir, new TreeRestoreOptions
        {
            TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, null!, exact), KeepOwners = true, KeepSpecialModes = true,
        }, NullOperationLog.Instance, default);
        tool = FileStatReader.Get(Path.Combine(exact, "files", "tool.bin"));
        Assert.Equal((0x9ED, 0), (tool.Mode, tool.Uid));
    }

    [Fact]
    public void An_entry_larger_than_the_index_says_is_refused_before_a_byte_is_written()
    {
        // Finding 3.6: a 101 KB archive inflated to 3 GiB in the staging folder before its checksum was compared.
        var p = Platform();
        Write("files/small.txt", "four");
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        var archive = Path.Combine(full.Path, full.Manifest.Parts[0].Tree.Archive!);
        const long bomb = 256L << 20;
        using (var file = File.Create(archive))
        using (var z = Compression.Compress(file, CompressionKind.Zstd, 3))
        using (var tar = new System.Formats.Tar.TarWriter(z, System.Formats.Tar.TarEntryFormat.Pax))
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "files/small.txt") { DataStream = new Zeros(bomb) });
        Assert.True(new FileInfo(archive).Length < 1 << 20);
        var target = Path.Combine(_dir.Path, "restored");
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<ExoBackupException>(() => Restore(repo, full, target));
        Assert.Equal("ExoBackup.ChecksumMismatch", e.ErrorId);
        Assert.Contains("holds 268,435,456 bytes where the index says 4", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refused after {watch.Elapsed}");
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.GetDirectories(_dir.Path, "restored.restore-*"));
    }

    /// <summary>A stream of zeros of a given length that allocates nothing.</summary>
    sealed class Zeros(long length) : Stream
    {
        long _position;
        public override bool CanRead => true;
        public override bool CanSeek => true; // TarWriter wants it, to write the length first
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => _position = value; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) =>
            _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void A_target_from_the_settings_reached_through_a_link_of_another_account_is_refused()
    {
        // The eXo account owns home and the link l -> a folder of root's: the target home/l/newdir looked like the eXo account's.
        if (!FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (it changes owners)");
        var p = Platform();
        Write("files/a.txt", "a");
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        var rootsFolder = Directory.CreateDirectory(Path.Combine(_dir.Path, "roots")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, "exo-home")).FullName;
        FileStatReader.SetOwner(home, 65534, 65534);
        var link = Path.Combine(home, "l");
        File.CreateSymbolicLink(link, rootsFolder);
        FileStatReader.SetOwner(link, 65534, 65534);
        var target = Path.Combine(link, "newdir");
        var e = Assert.Throws<ExoBackupException>(() => TreeRestore.Run(repo, full, PlatformFilesBackupService.DataDir, new TreeRestoreOptions
        {
            TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, null!, target), SettingsOwnerUid = 65534,
        }, NullOperationLog.Instance, default));
        Assert.Equal("ExoBackup.UnsafeRestoreTarget", e.ErrorId);
        Assert.Empty(Directory.EnumerateFileSystemEntries(rootsFolder));
    }

    [Fact]
    public void A_damaged_parent_index_is_not_trusted_by_the_next_incremental()
    {
        // Finding 1.13: one flipped hash character in the parent's index passed into every later index.
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        var indexFile = Path.Combine(full.Path, full.Manifest.Parts[0].Tree.Index!);
        var index = FileIndex.Read(indexFile);
        var victim = index.Entries.Values.First(e => e.Kind == 'f' && e.Size > 0);
        victim.Hash = (victim.Hash![0] == '0' ? "1" : "0") + victim.Hash[1..];
        using (var fs = File.Create(indexFile))
        using (var z = Compression.Compress(fs, CompressionKind.Zstd, 3))
            FileIndex.Write(z, index.Header, index.Entries.Values, index.Deleted);
        var log = new WarningLog();
        var s = repo.Begin(SnapshotType.Incremental, p, false, NullOperationLog.Instance);
        var part = PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), log, default), NullOperationLog.Instance);
        Assert.Contains(log.Warnings, w => w.Contains("does not match its recorded SHA-256"));
        Assert.Equal(index.Entries.Values.Count(e => e.Kind == 'f' && !e.Path.StartsWith("jcr/swap") && !e.Path.StartsWith("jta")), part.ChangedItems);
        var inc = repo.Complete(s.Id, false, NullOperationLog.Instance);
        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, inc, target);
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target));
    }

    static long Rehashed(SnapshotEntry s) => s.Manifest.Parts[0].Tree.FilesRehashed!.Value;

    [Fact]
    public void Content_rewritten_with_size_and_mtime_kept_is_in_the_next_incremental()
    {
        // cp -p, rsync -t, touch -r: new bytes, same length, the old mtime put back (finding 1.1: 30 of 30 restored stale).
        var p = Platform();
        var t = new DateTime(2025, 5, 5, 5, 5, 5, DateTimeKind.Utc);
        for (var i = 0; i < 30; i++) Write($"files/kept-{i:00}.bin", new string('a', 1000 + i), t);
        Write("files/untouched.bin", "same", t);
        var repo = SnapshotRepository.Open(RepoPath, true);
        Backup(repo, p, SnapshotType.Full);
        for (var i = 0; i < 30; i++) Write($"files/kept-{i:00}.bin", new string('b', 1000 + i), t);
        var inc = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(30, inc.Manifest.Parts[0].ChangedItems);
        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, inc, target);
        var stale = Enumerable.Range(0, 30).Count(i => File.ReadAllText(Path.Combine(target, "files", $"kept-{i:00}.bin"))[0] != 'b');
        Assert.Equal(0, stale);
        AssertSameTree(Describe(Data), Describe(target));
    }

    [Fact]
    public void An_untouched_file_is_not_read_again_and_a_chmod_is_read_but_not_stored()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        Backup(repo, p, SnapshotType.Full);
        var quiet = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal((0, 0L), (quiet.Manifest.Parts[0].ChangedItems, Rehashed(quiet)));
        var file = Path.Combine(Data, "hsql", "exo-plf.script");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var chmod = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal((0, 1L), (chmod.Manifest.Parts[0].ChangedItems, Rehashed(chmod)));
        Assert.Equal(0L, chmod.Manifest.Parts[0].Tree.BytesArchived);
        var after = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(0L, Rehashed(after)); // the new ctime was recorded
        var target = Path.Combine(_dir.Path, "restored");
        Restore(repo, after, target);
        AssertSameTree(Describe(Data, "jcr/swap", "jta"), Describe(target));
    }

    [Fact]
    public void The_first_incremental_after_a_restore_rereads_every_file_and_stores_none()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        Restore(repo, full, Data); // in place: every file is new (inode, ctime)
        var files = full.Manifest.Parts[0].ItemCount - Directory.EnumerateDirectories(Data, "*", SearchOption.AllDirectories).Count() - 1;
        var inc = Backup(repo, p, SnapshotType.Incremental);
        Assert.Equal(0, inc.Manifest.Parts[0].ChangedItems);
        Assert.True(Rehashed(inc) >= files - 2, $"{Rehashed(inc)} of about {files} files re-read"); // swap and jta are excluded
        Assert.Equal(0L, inc.Manifest.Parts[0].Tree.BytesArchived);
    }

    [Fact]
    public void Checksum_mode_reads_every_file_and_finds_what_changed()
    {
        var p = Platform();
        var t = new DateTime(2025, 5, 5, 5, 5, 5, DateTimeKind.Utc);
        Write("files/same.txt", "aaaa", t);
        Write("files/other.txt", "cccc", t);
        var repo = SnapshotRepository.Open(RepoPath, true);
        Backup(repo, p, SnapshotType.Full);
        var quiet = Backup(repo, p, SnapshotType.Incremental, checksum: true);
        Assert.Equal((0, 2L), (quiet.Manifest.Parts[0].ChangedItems, Rehashed(quiet)));
        Write("files/same.txt", "bbbb", t);
        Assert.Equal(1, Backup(repo, p, SnapshotType.Incremental, checksum: true).Manifest.Parts[0].ChangedItems);
    }

    [Fact]
    public void A_restore_keeps_what_it_replaces()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = Backup(repo, p, SnapshotType.Full);
        Write("files/only-in-current.txt", "current");
        var roots = TreeRestore.Run(repo, s, PlatformFilesBackupService.DataDir, new TreeRestoreOptions { TargetFor = _ => Data, Stamp = "T1" }, NullOperationLog.Instance, default);
        Assert.Equal(Data + ".pre-restore-T1", roots[0].PreviousKeptAt);
        Assert.True(File.Exists(Path.Combine(Data + ".pre-restore-T1", "files", "only-in-current.txt")));
        Assert.False(File.Exists(Path.Combine(Data, "files", "only-in-current.txt")));
    }

    [Fact]
    public void Verify_catches_a_flipped_byte_in_every_file()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var s = Backup(repo, p, SnapshotType.Full);
        Assert.All(SnapshotVerifier.Verify(repo, s.Id, VerifyLevel.Archive, NullOperationLog.Instance, default), f => Assert.True(f.Passed, f.Message));
        foreach (var file in Directory.GetFiles(s.Path))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var pos in new[] { 0, bytes.Length / 2, bytes.Length - 1 })
            {
                bytes[pos] ^= 0x20;
                File.WriteAllBytes(file, bytes);
                var findings = SnapshotVerifier.Verify(repo, s.Id, VerifyLevel.Checksum, NullOperationLog.Instance, default);
                Assert.True(findings.Any(f => !f.Passed), $"a flipped byte at {pos} of {Path.GetFileName(file)} went unnoticed");
                bytes[pos] ^= 0x20;
                File.WriteAllBytes(file, bytes);
            }
        }
    }

    [Fact]
    public void A_missing_parent_breaks_the_chain()
    {
        var p = Platform();
        Populate();
        var repo = SnapshotRepository.Open(RepoPath, true);
        var full = Backup(repo, p, SnapshotType.Full);
        Write("files/x", "x");
        var inc = Backup(repo, p, SnapshotType.Incremental);
        Directory.Delete(full.Path, true);
        var findings = SnapshotVerifier.Verify(repo, inc.Id, VerifyLevel.Checksum, NullOperationLog.Instance, default);
        Assert.Contains(findings, f => !f.Passed && f.Part == "Chain" && f.Message.Contains(full.Id));
        var e = Assert.Throws<ExoBackupException>(() => Restore(repo, inc, Path.Combine(_dir.Path, "r")));
        Assert.Equal("ExoBackup.ChainBroken", e.ErrorId);
    }
}

public class TreeEdgeTests : IDisposable
{
    readonly TempDir _dir = new("exo-edge");
    public void Dispose() => _dir.Dispose();

    (SnapshotRepository, PlatformInfo) Setup()
    {
        var p = new TestBundle(_dir).Folder("gatein/data/files").Discover();
        return (SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true), p);
    }

    [Fact]
    public async Task A_file_that_changes_while_read_is_flagged_and_fails_an_offline_snapshot()
    {
        var (repo, p) = Setup();
        var file = Path.Combine(p.Data.DataDir, "files", "growing.bin");
        File.WriteAllBytes(file, new byte[64 << 20]);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            using var fs = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            while (!stop.IsCancellationRequested) { fs.Write(new byte[4096]); fs.Flush(); }
        });
        PartRecord part;
        try
        {
            part = PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        }
        finally { stop.Cancel(); await writer; }
        Assert.Contains("files/growing.bin", part.ChangedWhileRead);
        Assert.Equal("ExoBackup.SnapshotOnline", Assert.Throws<ExoBackupException>(() => repo.Complete(s.Id, false, NullOperationLog.Instance)).ErrorId);
    }

    [Fact]
    public void A_file_over_8_GiB_round_trips_through_a_pax_size_record()
    {
        var (repo, p) = Setup();
        var big = Path.Combine(p.Data.DataDir, "files", "huge.bin");
        using (var fs = new FileStream(big, FileMode.Create)) { fs.SetLength((8L << 30) + 4097); fs.Seek(-5, SeekOrigin.End); fs.Write("tail!"u8); }
        File.WriteAllText(Path.Combine(p.Data.DataDir, "files", "after.txt"), "after the big one");
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        var done = repo.Complete(s.Id, false, NullOperationLog.Instance);
        // GNU tar reads the pax size record.
        using var tar = Process.Start(new ProcessStartInfo("tar", ["--zstd", "-tvf", Path.Combine(done.Path, "datadir.tar.zst")]) { RedirectStandardOutput = true })!;
        var listing = tar.StandardOutput.ReadToEnd();
        tar.WaitForExit();
        Assert.Contains(((8L << 30) + 4097).ToString(), listing);
        Assert.Contains("files/after.txt", listing);
        Assert.All(SnapshotVerifier.Verify(repo, done.Id, VerifyLevel.Archive, NullOperationLog.Instance, default), f => Assert.True(f.Passed, f.Message));
    }
}
