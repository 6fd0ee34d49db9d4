using ExoBackup.Engine.Storage;
using ExoBackup.Engine.IO;
using System.Text.Json;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Engine.Tests;

public class RepositoryTests : IDisposable
{
    readonly TempDir _dir = new("exo-repo");
    public void Dispose() => _dir.Dispose();

    PlatformInfo Platform() => new TestBundle(_dir).DataFile("files/a.txt", "a").CodecKey("key").Discover();

    /// <summary>A repository with one complete full snapshot of the configuration.</summary>
    (SnapshotRepository Repo, SnapshotEntry Full) FullConfigurationSnapshot(PlatformInfo p)
    {
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupConfiguration(s, p, new TreeBackupOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        return (repo, repo.Complete(s.Id, false, NullOperationLog.Instance));
    }

    [Fact]
    public void Snapshot_ids_sort_by_time_and_stay_unique_within_a_second()
    {
        var now = new DateTimeOffset(2026, 11, 26, 2, 15, 0, TimeSpan.Zero);
        var a = SnapshotId.New(SnapshotType.Full, now, []);
        var b = SnapshotId.New(SnapshotType.Incremental, now, [a]);
        Assert.Equal("20261126T021500Z-full", a);
        Assert.Equal("20261126T021501Z-incr", b);
        Assert.True(string.CompareOrdinal(a, b) < 0);
        Assert.False(SnapshotId.IsValid("../etc"));
    }

    [Fact]
    public void A_second_writer_is_refused_and_a_stale_lock_is_reported_then_broken()
    {
        var p = Platform();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        var again = Assert.Throws<ExoBackupException>(() => repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance));
        Assert.Equal("ExoBackup.SnapshotStillOpen", again.ErrorId);

        // A lock of a live process of this host that is not us.
        var live = new LockOwner { Host = Environment.MachineName, Pid = 1, Created = DateTimeOffset.UtcNow, Snapshot = "20261101T020000Z-full" };
        File.WriteAllText(Path.Combine(repo.Root, RepositoryLock.FileName), JsonSerializer.Serialize(live, SnapshotManifest.Json));
        var busy = Assert.Throws<ExoBackupException>(() => repo.Begin(SnapshotType.Full, p, true, NullOperationLog.Instance));
        Assert.Equal("ExoBackup.RepositoryLocked", busy.ErrorId);
        Assert.Contains("PID 1", busy.Message);

        // A lock of this host whose process is gone: broken without -BreakLock, with a warning (the next night goes on by itself).
        var dead = new LockOwner { Host = Environment.MachineName, Pid = 4194000, Created = DateTimeOffset.UtcNow, Snapshot = s.Id };
        File.WriteAllText(Path.Combine(repo.Root, RepositoryLock.FileName), JsonSerializer.Serialize(dead, SnapshotManifest.Json));
        var log = new WarningLog();
        var s2 = repo.Begin(SnapshotType.Full, p, false, log);
        Assert.Contains(log.Warnings, w => w.Contains("Breaking the stale lock") && w.Contains("PID 4194000"));
        Assert.NotEqual(s.Id, s2.Id);
        Assert.Equal(2, repo.List(true).Count(x => x.Status == SnapshotStatus.InProgress));
        Assert.Empty(repo.List(false));
        repo.RemovePartial(s2.Id);

        // Another host's lock not refreshed for longer than StaleAfter: stale, but only -BreakLock breaks it.
        var elsewhere = new LockOwner { Host = "another-host", Pid = 4194000, Snapshot = s.Id, Refreshed = DateTimeOffset.UtcNow - RepositoryLock.StaleAfter * 2 };
        File.WriteAllText(Path.Combine(repo.Root, RepositoryLock.FileName), JsonSerializer.Serialize(elsewhere, SnapshotManifest.Json));
        var stale = Assert.Throws<ExoBackupException>(() => repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance));
        Assert.Equal("ExoBackup.RepositoryLockStale", stale.ErrorId);
        Assert.Contains("-BreakLock", stale.RecommendedAction); // the switch that breaks it (it was -Force)
        Assert.Contains("Remove-ExoSnapshot -IncompleteOlderThan", stale.RecommendedAction);
        repo.RemovePartial(repo.Begin(SnapshotType.Full, p, true, NullOperationLog.Instance).Id);
    }

    /// <summary>What Lock does: take it, else break it if stale and take it again.</summary>
    static bool TakeOrBreakStale(string repo, LockOwner me)
    {
        if (RepositoryLock.TryAcquire(At(repo), me)) return true;
        var held = RepositoryLock.Read(At(repo));
        if (held is null || !RepositoryLock.IsStale(held)) return false;
        RepositoryLock.BreakIfStill(At(repo), held);
        return RepositoryLock.TryAcquire(At(repo), me);
    }

    static LocalFolderStorage At(string repo) => new(repo);

    static void WriteLock(string repo, LockOwner owner) =>
        File.WriteAllText(Path.Combine(repo, RepositoryLock.FileName), JsonSerializer.Serialize(owner, SnapshotManifest.Json));

    [Fact]
    public void Two_racing_writers_one_winner_in_every_round()
    {
        // Finding 1.6: a check-then-rename lock, and a stale lock broken by an unconditional delete, let two writers in.
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true).Root;
        const int rounds = 400;
        var winners = new int[rounds];
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0) WriteLock(repo, new LockOwner { Host = Environment.MachineName, Pid = 4194000, Snapshot = "20261101T010000Z-full", Token = $"dead{round}" });
            var owners = new[] { RepositoryLock.Current("20261101T020000Z-full"), RepositoryLock.Current("20261101T020001Z-full") };
            using var start = new Barrier(2);
            var won = new bool[2];
            Parallel.For(0, 2, i => { start.SignalAndWait(); won[i] = TakeOrBreakStale(repo, owners[i]); });
            winners[round] = won.Count(w => w);
            var holder = RepositoryLock.Read(At(repo));
            Assert.Equal(owners[Array.IndexOf(won, true)].Token, holder?.Token);
            RepositoryLock.Release(At(repo), holder!.Snapshot);
        }
        Assert.All(winners, w => Assert.Equal(1, w));
    }

    [Fact]
    public void A_stale_lock_is_broken_only_if_it_is_still_the_one_judged_stale()
    {
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true).Root;
        WriteLock(repo, new LockOwner { Host = Environment.MachineName, Pid = 4194000, Snapshot = "20261101T010000Z-full", Token = "dead" });
        var judgedByB = RepositoryLock.Read(At(repo))!;          // B finds the lock stale...
        Assert.True(RepositoryLock.IsStale(judgedByB));
        var a = RepositoryLock.Current("20261101T020000Z-full");
        Assert.True(TakeOrBreakStale(repo, a));              // ...A breaks it and takes it meanwhile...
        Assert.False(RepositoryLock.BreakIfStill(At(repo), judgedByB)); // ...B's break must leave A's lock alone
        Assert.False(RepositoryLock.TryAcquire(At(repo), RepositoryLock.Current("20261101T020001Z-full")));
        Assert.Equal(a.Token, RepositoryLock.Read(At(repo))!.Token);
        Assert.Single(Directory.GetFiles(repo, RepositoryLock.FileName + "*"));
        RepositoryLock.Release(At(repo), a.Snapshot);
    }

    [Fact]
    public void A_lock_naming_a_path_as_its_snapshot_is_corrupt_and_removes_nothing()
    {
        // Finding 3.9: a lock of this very process naming "../victim" made -Force delete <root>/../victim.partial.
        var p = Platform();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var victim = Directory.CreateDirectory(Path.Combine(_dir.Path, "victim.partial")).FullName;
        WriteLock(repo.Root, new LockOwner { Host = Environment.MachineName, Pid = Environment.ProcessId, Snapshot = "../victim", Token = "forged" });
        Assert.Equal("(unreadable lock file)", RepositoryLock.Read(repo.Storage)!.Snapshot);
        var s = repo.Begin(SnapshotType.Full, p, true, NullOperationLog.Instance);
        Assert.True(Directory.Exists(victim));
        repo.RemovePartial(s.Id);
    }

    [Fact]
    public async Task A_held_lock_is_refreshed_and_another_hosts_lock_goes_stale_only_when_old()
    {
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true).Root;
        var saved = RepositoryLock.RefreshEvery;
        RepositoryLock.RefreshEvery = TimeSpan.FromMilliseconds(50);
        try
        {
            var me = RepositoryLock.Current("20261101T020000Z-full");
            Assert.True(RepositoryLock.TryAcquire(At(repo), me));
            var first = RepositoryLock.Read(At(repo))!.Refreshed;
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (RepositoryLock.Read(At(repo))?.Refreshed == first && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(RepositoryLock.Read(At(repo))!.Refreshed > first);
            Assert.Equal(me.Token, RepositoryLock.Read(At(repo))!.Token);
            RepositoryLock.Release(At(repo), me.Snapshot);
            Assert.Null(RepositoryLock.Read(At(repo)));
            await Task.Delay(150);
            Assert.Null(RepositoryLock.Read(At(repo))); // the refresher stopped with the release
        }
        finally { RepositoryLock.RefreshEvery = saved; }
        var elsewhere = new LockOwner { Host = "another-host", Pid = 1, Snapshot = "20261101T020000Z-full", Refreshed = DateTimeOffset.UtcNow };
        Assert.False(RepositoryLock.IsStale(elsewhere));
        elsewhere.Refreshed = DateTimeOffset.UtcNow - RepositoryLock.StaleAfter - TimeSpan.FromMinutes(1);
        Assert.True(RepositoryLock.IsStale(elsewhere));
        elsewhere.Refreshed = null; // written before locks were refreshed: nothing tells
        Assert.False(RepositoryLock.IsStale(elsewhere));
    }

    [Fact]
    public void A_lock_cut_short_by_a_kill_is_stale_and_breakable()
    {
        var p = Platform();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        File.WriteAllText(Path.Combine(repo.Root, RepositoryLock.FileName), "{\"host\": \"exo");   // half-written
        File.WriteAllText(Path.Combine(repo.Root, RepositoryLock.FileName + ".4194000.abc.tmp"), "{");  // a killed writer's temp
        Assert.Equal("ExoBackup.RepositoryLockStale", Assert.Throws<ExoBackupException>(() => repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance)).ErrorId);
        var s = repo.Begin(SnapshotType.Full, p, true, NullOperationLog.Instance);
        Assert.Equal(s.Id, RepositoryLock.Read(repo.Storage)!.Snapshot);
        Assert.Empty(Directory.GetFiles(repo.Root, "*.tmp"));
    }

    [Fact]
    public void An_online_part_needs_allow_online_and_marks_the_snapshot()
    {
        var p = Platform();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        Assert.Equal("ExoBackup.SnapshotEmpty", Assert.Throws<ExoBackupException>(() => repo.Complete(s.Id, false, NullOperationLog.Instance)).ErrorId);
        PartRunner.Run(repo, s, () => true, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        var e = Assert.Throws<ExoBackupException>(() => repo.Complete(s.Id, false, NullOperationLog.Instance));
        Assert.Equal("ExoBackup.SnapshotOnline", e.ErrorId);
        Assert.Empty(repo.List());
        var done = repo.Complete(s.Id, true, NullOperationLog.Instance);
        Assert.Equal(Consistency.Online, done.Manifest.Consistency);
        Assert.Null(RepositoryLock.Read(repo.Storage));
    }

    [Fact]
    public void Snapshot_folders_and_files_are_private()
    {
        var p = Platform();
        var (repo, done) = FullConfigurationSnapshot(p);
        Assert.Equal(PrivateFiles.DirectoryPermissions, File.GetUnixFileMode(done.Path) & (UnixFileMode)0x1FF);
        Assert.All(Directory.GetFiles(done.Path), f => Assert.Equal(PrivateFiles.FilePermissions, File.GetUnixFileMode(f) & (UnixFileMode)0x1FF));
    }

    [Fact]
    public void A_non_empty_folder_is_not_taken_for_a_repository()
    {
        _dir.Write("busy/file.txt", "x");
        var e = Assert.Throws<ExoBackupException>(() => SnapshotRepository.Open(Path.Combine(_dir.Path, "busy"), true));
        Assert.Equal("ExoBackup.RepositoryNotEmpty", e.ErrorId);
        Assert.Equal("ExoBackup.RepositoryNotFound", Assert.Throws<ExoBackupException>(() => SnapshotRepository.Open(Path.Combine(_dir.Path, "none"), false)).ErrorId);
    }

    static SnapshotEntry Entry(string id, SnapshotType type, string? parent) =>
        new(id, "/x/" + id, SnapshotStatus.Complete, new SnapshotManifest { Id = id, Type = type, Parent = parent });

    [Fact]
    public async Task A_parent_chain_that_loops_is_broken_not_endless()
    {
        // Finding 1.7: a full forged into an incremental of itself took 6.8 GiB in 25 s.
        var p = Platform();
        var (repo, full) = FullConfigurationSnapshot(p);
        var manifest = Path.Combine(full.Path, "manifest.json");
        var m = JsonSerializer.Deserialize<SnapshotManifest>(File.ReadAllText(manifest), SnapshotManifest.Json)!;
        (m.Type, m.Parent) = (SnapshotType.Incremental, full.Id);
        File.WriteAllText(manifest, JsonSerializer.Serialize(m, SnapshotManifest.Json));
        var (_, broken) = await Task.Run(() => repo.Chain(full.Id)).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("loops back", broken);
        var next = repo.Begin(SnapshotType.Incremental, p, false, NullOperationLog.Instance);
        var e = await Task.Run(() => Assert.Throws<ExoBackupException>(() =>
            PlatformFilesBackupService.BackupDataDir(repo, next, p, new DataDirOptions(), NullOperationLog.Instance, default))).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("ExoBackup.ChainBroken", e.ErrorId);
        repo.RemovePartial(next.Id);

        // Two that name each other, beside a sound full: retention keeps the full, the walks end.
        var loop = new List<SnapshotEntry>
        {
            Entry("20261101T020000Z-full", SnapshotType.Full, null),
            Entry("20261102T020000Z-incr", SnapshotType.Incremental, "20261103T020000Z-incr"),
            Entry("20261103T020000Z-incr", SnapshotType.Incremental, "20261102T020000Z-incr"),
        };
        var (keep, _) = await Task.Run(() => Retention.Plan(loop, new RetentionPolicy { KeepLast = 1 })).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Contains("20261101T020000Z-full", keep.Keys);
        var dependents = await Task.Run(() => Retention.Dependents(loop, "20261102T020000Z-incr")).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["20261103T020000Z-incr"], dependents);
    }

    [Fact]
    public void A_removal_killed_midway_is_listed_and_ended_leaving_only_the_marker()
    {
        // Finding 1.8: <id>.removing.partial was listed by nothing and removed by nothing.
        var p = Platform();
        var (repo, full) = FullConfigurationSnapshot(p);
        var doomed = Path.Combine(repo.Root, full.Id + ".removing.partial");
        Directory.Move(full.Path, doomed); // RemoveComplete killed after its rename
        File.Delete(Path.Combine(doomed, "SHA256SUMS"));  // and after its first unlink
        Assert.Empty(repo.List());
        var left = Assert.Single(repo.List(includeIncomplete: true));
        Assert.Equal((full.Id, SnapshotStatus.InProgress), (left.Id, left.Status));
        Assert.Contains("removal was interrupted", left.Problem);
        repo.RemovePartial(left.Id);
        Assert.Equal([SnapshotRepository.MarkerFile], Directory.EnumerateFileSystemEntries(repo.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void A_private_folder_is_0700_with_every_parent_it_creates()
    {
        var deep = Path.Combine(_dir.Path, "a", "b", "c");
        PrivateFiles.CreateDirectory(deep);
        foreach (var d in new[] { "a", "a/b", "a/b/c" })
            Assert.Equal(PrivateFiles.DirectoryPermissions, File.GetUnixFileMode(Path.Combine(_dir.Path, d)));
        PrivateFiles.CreateDirectory(deep); // exists: nothing to do
    }

    [Fact]
    public void A_torn_part_record_is_reported_and_stops_the_completion()
    {
        var p = Platform();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupConfiguration(s, p, new TreeBackupOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        File.WriteAllText(Path.Combine(s.Path, "parts", "DataDir.json"), "{\"component\": \"DataDir\", \"files\": [");
        var open = repo.Get(s.Id);
        Assert.Contains("DataDir.json", open.Problem);
        Assert.Single(open.Manifest.Parts); // the sound one
        var e = Assert.Throws<ExoBackupException>(() => repo.Complete(s.Id, false, NullOperationLog.Instance));
        Assert.Equal("ExoBackup.RepositoryCorrupt", e.ErrorId);
        Assert.Contains("DataDir.json", e.Message);
    }

    [Fact]
    public void Retention_keeps_whole_chains_and_the_newest_full()
    {
        var list = new List<SnapshotEntry>
        {
            Entry("20261101T020000Z-full", SnapshotType.Full, null),
            Entry("20261102T020000Z-incr", SnapshotType.Incremental, "20261101T020000Z-full"),
            Entry("20261103T020000Z-incr", SnapshotType.Incremental, "20261102T020000Z-incr"),
            Entry("20261108T020000Z-full", SnapshotType.Full, null),
            Entry("20261109T020000Z-diff", SnapshotType.Differential, "20261108T020000Z-full"),
            Entry("20261110T020000Z-incr", SnapshotType.Incremental, "20261109T020000Z-diff"),
        };
        var (keep, remove) = Retention.Plan(list, new RetentionPolicy { KeepLast = 1 });
        Assert.Equal(["20261108T020000Z-full", "20261109T020000Z-diff", "20261110T020000Z-incr"], keep.Keys.Order());
        Assert.Equal(["20261103T020000Z-incr", "20261102T020000Z-incr", "20261101T020000Z-full"], remove.Select(r => r.Id));

        var (keepDaily, _) = Retention.Plan(list, new RetentionPolicy { KeepDaily = 2 });
        Assert.Contains("20261109T020000Z-diff", keepDaily.Keys);
        Assert.Contains("20261108T020000Z-full", keepDaily.Keys); // parent of the diff

        var (keepMonthly, removeMonthly) = Retention.Plan(list, new RetentionPolicy { KeepMonthly = 1 });
        Assert.Equal(3, keepMonthly.Count);
        Assert.Equal(3, removeMonthly.Count);
        Assert.Equal(["20261102T020000Z-incr", "20261103T020000Z-incr"], Retention.Dependents(list, "20261101T020000Z-full").Order());
    }

    [Theory]
    [InlineData("/etc/passwd", 'f', null)]
    [InlineData("../outside", 'f', null)]
    [InlineData("files/../../outside", 'f', null)]
    [InlineData("files//double", 'f', null)]
    [InlineData("C:/windows", 'f', null)]
    [InlineData("files/evil", 'l', "/etc")]
    [InlineData("files/evil", 'l', "../../etc")]
    [InlineData("evil", 'l', "..")]
    [InlineData("files/sda", 'b', null)]
    [InlineData("files/tty", 'c', null)]
    [InlineData("files/fifo", 'o', null)]
    public void Hostile_index_entries_are_refused(string path, char kind, string? link)
    {
        var entries = new List<IndexEntry> { new() { Path = "files", Kind = 'd' }, new() { Path = path, Kind = kind, Link = link, Hash = "00", Archive = "x" } };
        var e = Assert.Throws<ExoBackupException>(() => TreeRestore.Validate(entries, [""]));
        Assert.Equal("ExoBackup.UnsafeArchiveEntry", e.ErrorId);
    }

    [Fact]
    public void A_file_under_a_link_is_refused_and_safe_links_pass()
    {
        var ok = new List<IndexEntry>
        {
            new() { Path = "files", Kind = 'd' },
            new() { Path = "files/up", Kind = 'l', Link = "../jcr/values" },
            new() { Path = "files/here", Kind = 'l', Link = "./a/b" },
        };
        TreeRestore.Validate(ok, [""]);
        var bad = new List<IndexEntry>
        {
            new() { Path = "files", Kind = 'd' },
            new() { Path = "files/link", Kind = 'l', Link = "sub" },
            new() { Path = "files/link/payload", Kind = 'f', Hash = "00", Archive = "x" },
        };
        Assert.Equal("ExoBackup.UnsafeArchiveEntry", Assert.Throws<ExoBackupException>(() => TreeRestore.Validate(bad, [""])).ErrorId);
    }

    [Fact]
    public void A_chain_of_links_that_each_look_inside_but_lead_out_is_refused()
    {
        // Finding 2.7: up -> ../../../../.. stays inside; esc -> a/b/c/d/e/up/../../.. counted lexically also did.
        var folders = new[] { "a", "a/b", "a/b/c", "a/b/c/d", "a/b/c/d/e" }.Select(f => new IndexEntry { Path = f, Kind = 'd' }).ToList();
        var up = new IndexEntry { Path = "a/b/c/d/e/up", Kind = 'l', Link = "../../../../.." };
        TreeRestore.Validate([.. folders, up], [""]); // to the root itself: inside
        var esc = new IndexEntry { Path = "esc", Kind = 'l', Link = "a/b/c/d/e/up/../../.." };
        var e = Assert.Throws<ExoBackupException>(() => TreeRestore.Validate([.. folders, up, esc], [""]));
        Assert.Equal("ExoBackup.UnsafeArchiveEntry", e.ErrorId);
        Assert.Contains("leaves the restored tree", e.Message);
        // Through a link into another folder and back down: still inside.
        var side = new IndexEntry { Path = "a/side", Kind = 'l', Link = "b/c" };
        var back = new IndexEntry { Path = "back", Kind = 'l', Link = "a/side/../../a/b" };
        TreeRestore.Validate([.. folders, side, back], [""]);
        // A loop of links.
        var loop = new[] { new IndexEntry { Path = "x", Kind = 'l', Link = "y/z" }, new IndexEntry { Path = "y", Kind = 'l', Link = "x" } };
        Assert.Contains("loop", Assert.Throws<ExoBackupException>(() => TreeRestore.Validate(loop, [""])).Message);
        // Within a root of its own (_external/files), a link may not climb above it.
        var external = new List<IndexEntry> { new() { Path = "_external/files/d", Kind = 'd' }, new() { Path = "_external/files/d/out", Kind = 'l', Link = "../.." } };
        Assert.Throws<ExoBackupException>(() => TreeRestore.Validate(external, ["", "_external/files"]));
    }
}

public class CaseClashTests
{
    [Fact]
    public void Names_that_differ_only_by_case_are_refused_for_a_case_insensitive_target_naming_both()
    {
        var entries = new List<IndexEntry>
        {
            new() { Path = "files", Kind = 'd' },
            new() { Path = "files/Report.txt", Kind = 'f' },
            new() { Path = "files/report.TXT", Kind = 'f' },
        };
        var e = Assert.Throws<ExoBackupException>(() => TreeRestore.RefuseCaseClashes(entries));
        Assert.Equal("ExoBackup.UnsafeArchiveEntry", e.ErrorId);
        Assert.Contains("files/Report.txt", e.Message);
        Assert.Contains("files/report.TXT", e.Message);
        // A link and a folder whose names clash: through the link, files would land elsewhere.
        var viaLink = new List<IndexEntry> { new() { Path = "A", Kind = 'l', Link = "b" }, new() { Path = "a", Kind = 'd' }, new() { Path = "a/x", Kind = 'f' } };
        Assert.Throws<ExoBackupException>(() => TreeRestore.RefuseCaseClashes(viaLink));
        TreeRestore.RefuseCaseClashes([new() { Path = "a", Kind = 'f' }, new() { Path = "b", Kind = 'f' }]);
    }

    [Fact]
    public void The_probe_sees_this_file_system_as_it_is_and_leaves_nothing_behind()
    {
        var dir = Directory.CreateTempSubdirectory("exo-case-").FullName;
        try
        {
            // What the file system itself says: a file, then its upper-case name looked up.
            File.WriteAllText(Path.Combine(dir, "probe"), "");
            var expected = File.Exists(Path.Combine(dir, "PROBE"));
            File.Delete(Path.Combine(dir, "probe"));
            Assert.Equal(expected, TreeRestore.IsCaseInsensitive(dir));
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public class SecretFileTests
{
    [Fact]
    public void A_secret_file_is_0600_in_a_0700_folder_and_gone_after_dispose()
    {
        string path;
        using (var f = new Tools.SecretFile("pgpass", "h:5432:db:u:secret\n"))
        {
            path = f.Path;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            Assert.Equal("h:5432:db:u:secret\n", File.ReadAllText(path));
        }
        Assert.False(File.Exists(path));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public void The_secret_folder_of_a_killed_process_is_swept_by_the_next_one()
    {
        var orphan = Path.Combine(Path.GetTempPath(), $"exobackup-secret-4194000-{Guid.NewGuid():N}");
        PrivateFiles.CreateDirectory(orphan); // 0700, as the killed process made it
        File.WriteAllText(Path.Combine(orphan, "pgpass"), "left by a kill");
        using (new Tools.SecretFile("x", "y")) { }
        Assert.False(Directory.Exists(orphan));
    }
}
