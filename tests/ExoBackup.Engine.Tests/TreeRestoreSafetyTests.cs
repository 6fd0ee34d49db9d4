using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.IO;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// Restores against an eXo account that owns the folder the target is in and changes it while root
/// restores (finding 2.3: it swapped the staging folder for a link, and root wrote 53 files into the
/// link's target and chowned it; 2.4: a -Path restore wrote through a link of the live tree), and a
/// tree deeper than PATH_MAX (1.11). The account is uid 65534, its steps run under setpriv.
/// </summary>
public class TreeRestoreSafetyTests : IDisposable
{
    const int Exo = 65534;
    readonly TempDir _dir = new("exo-restore-fd");

    public void Dispose()
    {
        TreeRestore.BetweenSteps.Value = null;
        TreeDeleter.Delete(_dir.Path); // the deep tree: .NET's recursive delete cannot remove it
        _dir.Dispose();
    }

    static void RequireRoot()
    {
        if (!FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (it runs the eXo account's steps as uid 65534)");
    }

    /// <summary>A step of the eXo account: bash as uid 65534, with the arguments as $1, $2 …</summary>
    static void AsExoAccount(string script, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("setpriv", ["--reuid", $"{Exo}", "--regid", $"{Exo}", "--clear-groups", "bash", "-c", script, "bash", .. args])
            { UseShellExecute = false, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"as uid {Exo}: {script}: {err}");
    }

    /// <summary>Gives a folder and all it holds to the eXo account.</summary>
    static void Chown(string path)
    {
        FileStatReader.SetOwner(path, Exo, Exo);
        foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories)) FileStatReader.SetOwner(entry, Exo, Exo);
    }

    /// <summary>A full backup of a data dir with a few folders and files (one named as root's folder in the victim).</summary>
    (SnapshotRepository Repo, SnapshotEntry Snapshot, PlatformInfo Platform) Backup(Action<string>? more = null)
    {
        var bundle = new TestBundle(_dir)
            .DataFile("files/01/a.txt", "restored a").DataFile("files/01/b.txt", "restored b").DataFile("files/02/c.txt", "restored c")
            .DataFile("jcr/values/v.bin", new string('v', 5000));
        more?.Invoke(bundle.DataDir);
        var p = bundle.Discover();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        return (repo, repo.Complete(s.Id, false, NullOperationLog.Instance), p);
    }

    /// <summary>As Restore-ExoSnapshot: by default the target as the bundle's settings name it (so it must be the eXo account's), else as -DataDir names it.</summary>
    static List<RestoredRoot> Restore(SnapshotRepository repo, SnapshotEntry s, string target, IReadOnlyList<string>? paths = null, bool keepOwners = false, bool namedBySettings = true) =>
        TreeRestore.Run(repo, s, PlatformFilesBackupService.DataDir, new TreeRestoreOptions
        {
            TargetFor = prefix => PlatformFilesBackupService.TargetFor(prefix, null!, target),
            PathFilter = paths ?? [],
            KeepOwners = keepOwners,
            SettingsOwnerUid = FileStatReader.IsRoot && namedBySettings ? Exo : null,
            Stamp = "T1",
        }, NullOperationLog.Instance, default);

    /// <summary>Every entry under a folder, walked through descriptors (any depth): kind, mode, owner, ns mtime, size, content hash, link target.</summary>
    static Dictionary<string, string> State(string root)
    {
        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in TreeScanner.Scan(root, "", _ => false, (p, e) => throw new Xunit.Sdk.XunitException($"{p}: {e.Message}"), default))
        {
            var hash = "";
            if (item.Stat.Type == EntryType.File)
            {
                Assert.Equal(SourceOpen.Same, item.Open(out var file, out _));
                using (file) using (var stream = new FileStream(file!, FileAccess.Read)) hash = Convert.ToHexString(SHA256.HashData(stream));
            }
            state[item.Path] = $"{(char)item.Stat.Type} {Convert.ToString(item.Stat.Mode, 8)} {item.Stat.Uid}:{item.Stat.Gid} {item.Stat.MtimeNs} {item.Stat.Size} {hash} {item.Link}";
        }
        return state;
    }

    static void AssertSameState(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var k in expected.Keys) Assert.True(expected[k] == actual[k], $"{k}: expected {expected[k]}, got {actual[k]}");
    }

    /// <summary>
    /// The eXo account's folder (as /opt/exo/gatein) with its data dir in it, and a folder of root's
    /// that a link could point at: 0755, with a folder "files" as the data dir has, and a file in it.
    /// </summary>
    (string Target, string Victim) Scene()
    {
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, "exo-home")).FullName;
        var target = Path.Combine(home, "data");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "the data in place");
        Chown(home);
        var victim = Directory.CreateDirectory(Path.Combine(_dir.Path, "roots-folder")).FullName;
        Directory.CreateDirectory(Path.Combine(victim, "files"));
        File.WriteAllText(Path.Combine(victim, "files", "root-only.txt"), "root's");
        File.SetUnixFileMode(victim, (UnixFileMode)0x1ED);
        return (target, victim);
    }

    [Theory]
    [InlineData("staged", "link")]  // right after it was made: every later write by path would follow the link
    [InlineData("commit", "link")]  // once everything is written: the rename by path would swap the link in
    [InlineData("commit", "folder")] // a folder of the account's own in its place
    public void A_staging_folder_swapped_between_two_steps_writes_nothing_outside_and_leaves_the_target(string step, string replacement)
    {
        RequireRoot();
        var (repo, snapshot, _) = Backup();
        var (target, victim) = Scene();
        var victimBefore = State(victim);
        var targetBefore = State(target);
        string? staging = null;
        FileStat made = default;
        TreeRestore.BetweenSteps.Value = (at, path) =>
        {
            if (at == "staged") (staging, made) = (path, FileStatReader.Get(path));
            if (at != step) return;
            AsExoAccount(replacement == "link" ? "mv -T \"$1\" \"$1.away\" && ln -s \"$2\" \"$1\"" : "mv -T \"$1\" \"$1.away\" && mkdir \"$1\" && echo mine > \"$1/keep.txt\"", path, victim);
        };
        var thrown = Record.Exception(() => Restore(repo, snapshot, target));
        TreeRestore.BetweenSteps.Value = null;

        // Nothing written, chowned or chmodded outside, the target as it was, nothing of the restore left in the staging folder made.
        AssertSameState(victimBefore, State(victim));
        AssertSameState(targetBefore, State(target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(staging + ".away"));
        // A clear error, naming the staging folder.
        var e = Assert.IsType<ExoBackupException>(thrown);
        Assert.Equal("ExoBackup.UnsafeRestoreTarget", e.ErrorId);
        Assert.Contains($"'{staging}' is not the folder this restore made and wrote any more", e.Message);
        // Made 0700 by root, under a name the account could not guess.
        Assert.Matches(@"/data\.restore-T1-[0-9a-f]{16}$", staging);
        Assert.Equal((EntryType.Directory, 0x1C0, 0), (made.Type, made.Mode, made.Uid));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!, "data.pre-restore-*"));
        // What the account put there is its own: left as it is.
        if (replacement == "link") Assert.Equal(victim, new FileInfo(staging!).LinkTarget);
        else Assert.Equal("mine\n", File.ReadAllText(Path.Combine(staging!, "keep.txt")));
    }

    [Fact]
    public void Unswapped_the_same_restore_replaces_the_target_and_keeps_the_old_one()
    {
        RequireRoot();
        var (repo, snapshot, p) = Backup();
        var (target, _) = Scene();
        var roots = Restore(repo, snapshot, target, keepOwners: true);
        Assert.Equal(target + ".pre-restore-T1", roots.Single().PreviousKeptAt);
        Assert.Equal("the data in place", File.ReadAllText(Path.Combine(target + ".pre-restore-T1", "keep.txt")));
        AssertSameState(State(p.Data.DataDir), State(target));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!, "data.restore-*"));
    }

    [Fact]
    public void A_path_restore_through_a_link_of_the_live_tree_is_refused_naming_it_and_writes_nothing()
    {
        // Finding 2.4, as reproduced: the eXo account replaces files/01 with a link to an empty outside folder.
        RequireRoot();
        var (repo, snapshot, p) = Backup();
        var data = p.Data.DataDir;
        Chown(Path.GetDirectoryName(data)!);
        var outside = Directory.CreateDirectory(Path.Combine(_dir.Path, "outside")).FullName;
        var link = Path.Combine(data, "files", "01");
        AsExoAccount("mv -T \"$1\" \"$1.away\" && ln -s \"$2\" \"$1\"", link, outside);
        var before = State(data);

        var thrown = Record.Exception(() => Restore(repo, snapshot, data, ["files/01/*"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        AssertSameState(before, State(data));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(data)!, "data.pre-restore-*"));
        var e = Assert.IsType<ExoBackupException>(thrown);
        Assert.Equal("ExoBackup.UnsafeRestoreTarget", e.ErrorId);
        Assert.Contains($"'{link}' is a link", e.Message);
        Assert.Contains("nothing was restored", e.Message);

        // The folder back, and a file of it replaced by a link to root's file: that link goes aside as a link, never written through.
        AsExoAccount("rm \"$1\" && mv -T \"$1.away\" \"$1\" && echo edited > \"$1/a.txt\" && rm \"$1/b.txt\" && ln -s \"$2\" \"$1/b.txt\"", link, Path.Combine(outside, "secret"));
        File.WriteAllText(Path.Combine(outside, "secret"), "root's");
        var roots = Restore(repo, snapshot, data, ["files/01/*"]);
        var kept = data + ".pre-restore-T1";
        Assert.Equal(kept, roots.Single().PreviousKeptAt);
        Assert.Equal(("restored a", "restored b"), (File.ReadAllText(Path.Combine(link, "a.txt")), File.ReadAllText(Path.Combine(link, "b.txt"))));
        Assert.Equal(EntryType.File, FileStatReader.Get(Path.Combine(link, "b.txt")).Type);
        Assert.Equal("edited\n", File.ReadAllText(Path.Combine(kept, "files", "01", "a.txt")));
        Assert.Equal(Path.Combine(outside, "secret"), new FileInfo(Path.Combine(kept, "files", "01", "b.txt")).LinkTarget);
        Assert.Equal("root's", File.ReadAllText(Path.Combine(outside, "secret")));
        Assert.Equal(Exo, FileStatReader.Get(Path.Combine(link, "a.txt")).Uid); // the target's owner, as before
    }

    [Fact]
    public void A_path_restore_into_a_target_that_is_a_link_of_the_eXo_account_is_refused()
    {
        RequireRoot();
        var (repo, snapshot, _) = Backup();
        var home = Directory.CreateDirectory(Path.Combine(_dir.Path, "exo-home")).FullName;
        Chown(home);
        var outside = Directory.CreateDirectory(Path.Combine(_dir.Path, "outside")).FullName;
        var target = Path.Combine(home, "data");
        AsExoAccount("ln -s \"$2\" \"$1\"", target, outside);
        var thrown = Record.Exception(() => Restore(repo, snapshot, target, ["files/**"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        var e = Assert.IsType<ExoBackupException>(thrown);
        Assert.Equal("ExoBackup.UnsafeRestoreTarget", e.ErrorId);
        Assert.Contains($"'{target}' is a link", e.Message);
    }

    [Fact]
    public void A_tree_200_folders_deep_with_255_byte_names_restores_with_its_metadata()
    {
        // Finding 1.11: the backup walks such a tree through descriptors; by path its restore could not write it.
        const int Depth = 200;
        var content = Encoding.UTF8.GetBytes("at the bottom of a 51 KB path");
        string? deepest = null;
        var (repo, snapshot, p) = Backup(data => deepest = "files/" + DeepTree.Make(Path.Combine(data, "files"), Depth, "bottom.txt", content));
        Assert.True(deepest!.Length > 50_000);
        var target = Path.Combine(_dir.Path, "restored");
        var roots = Restore(repo, snapshot, target, keepOwners: true, namedBySettings: false);
        Assert.Equal(5, roots.Single().Files);
        var restored = State(target);
        AssertSameState(State(p.Data.DataDir), restored);
        Assert.Equal(Depth + 10, restored.Count);
        Assert.Contains(Convert.ToHexString(SHA256.HashData(content)), restored[deepest]);

        // -Path into it, in place: the bottom file replaced (its folder's mtime is the restore's now), the old one kept at the same depth.
        var again = Restore(repo, snapshot, target, [deepest], keepOwners: true, namedBySettings: false);
        Assert.Equal(1, again.Single().Files);
        Assert.Equal(restored[deepest], State(target + ".pre-restore-T1")[deepest]);
        Assert.Equal(restored[deepest], State(target)[deepest]);
    }
}
