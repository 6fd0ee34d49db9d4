using System.Diagnostics;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Tests;

/// <summary>The file-system layer against an eXo account that swaps folders for links, and names that are not UTF-8.</summary>
public class IoTests : IDisposable
{
    readonly TempDir _dir = new("exo-io");
    const int Nobody = 65534;

    public void Dispose() => _dir.Dispose();

    static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err}");
    }

    string Victim()
    {
        var victim = Directory.CreateDirectory(Path.Combine(_dir.Path, "victim")).FullName;
        for (var i = 0; i < 20; i++) File.WriteAllText(Path.Combine(victim, $"keep-{i}"), "root's");
        return victim;
    }

    [Fact]
    public void A_link_in_the_tree_is_removed_as_a_link_and_its_target_kept()
    {
        var victim = Victim();
        var tree = Path.Combine(_dir.Path, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "a", "b"));
        File.WriteAllText(Path.Combine(tree, "a", "b", "f"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "a", "to-victim"), victim);
        File.CreateSymbolicLink(Path.Combine(tree, "dangling"), "/nonexistent");
        TreeDeleter.Delete(tree);
        Assert.False(Directory.Exists(tree));
        Assert.Equal(20, Directory.GetFiles(victim).Length);
        TreeDeleter.Delete(tree); // gone: nothing to do
        var link = Path.Combine(_dir.Path, "top-link");
        File.CreateSymbolicLink(link, victim);
        TreeDeleter.Delete(link);
        Assert.False(File.Exists(link) || Directory.Exists(link));
        Assert.Equal(20, Directory.GetFiles(victim).Length);
    }

    [Fact]
    public void Names_that_are_not_utf8_are_deleted_too()
    {
        var tree = Path.Combine(_dir.Path, "latin1");
        Directory.CreateDirectory(tree);
        Run("bash", "-c", "cd \"$1\" && e=$(printf '\\351') && mkdir -p \"caf$e/sub\" && printf y > \"caf$e/sub/r$e.bin\"", "bash", tree);
        Assert.Equal(["caf\\xE9"], RawDirectory.UndecodableNames(tree));
        Assert.ThrowsAny<IOException>(() => Directory.Delete(tree, true)); // what .NET's own delete does with them
        TreeDeleter.Delete(tree);
        Assert.False(Directory.Exists(tree));
    }

    [Fact]
    public void A_folder_swapped_for_a_link_while_root_deletes_never_takes_root_into_the_link()
    {
        // Finding 2.6, as the eXo account: it owns the tree and swaps a folder for a link to root's folder over and over.
        if (!FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (it runs an attacker as uid 65534)");
        var victim = Victim();
        var rounds = 0;
        var watch = Stopwatch.StartNew();
        while (rounds < 60 && watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var tree = Path.Combine(_dir.Path, $"tree-{rounds}");
            for (var d = 0; d < 30; d++)
            {
                Directory.CreateDirectory(Path.Combine(tree, $"d{d:00}"));
                for (var f = 0; f < 20; f++) File.WriteAllText(Path.Combine(tree, $"d{d:00}", $"f{f}"), "eXo's");
            }
            Run("chown", "-R", $"{Nobody}:{Nobody}", tree);
            using var attacker = Process.Start(new ProcessStartInfo("setpriv",
                ["--reuid", $"{Nobody}", "--regid", $"{Nobody}", "--clear-groups", "bash", "-c",
                 "cd \"$1\" || exit; for i in $(seq 1 4000); do for d in d*; do mv -T \"$d\" \"x$d\" 2>/dev/null && ln -s \"$2\" \"$d\" 2>/dev/null; done; done",
                 "bash", tree, victim]) { UseShellExecute = false })!;
            try { TreeDeleter.Delete(tree); } catch (IOException) { } // the attacker may keep adding names: what matters is below
            attacker.Kill(true);
            attacker.WaitForExit();
            Assert.Equal(20, Directory.GetFiles(victim).Length);
            rounds++;
        }
        Assert.True(rounds >= 5, $"only {rounds} rounds ran");
    }

    [Fact]
    public void The_sweep_of_secret_folders_leaves_what_another_user_planted()
    {
        var temp = Path.GetTempPath();
        const int dead = 4194000;
        var mine = Path.Combine(temp, $"exobackup-secret-{dead}-{Guid.NewGuid():N}");
        var planted = Path.Combine(temp, $"exobackup-secret-{dead}-{Guid.NewGuid():N}");
        var link = Path.Combine(temp, $"exobackup-secret-{dead}-{Guid.NewGuid():N}");
        var victim = Victim();
        try
        {
            PrivateFiles.CreateDirectory(mine);
            File.WriteAllText(Path.Combine(mine, "pgpass"), "secret");
            PrivateFiles.CreateDirectory(planted);
            File.WriteAllText(Path.Combine(planted, "x"), "other's");
            if (FileStatReader.IsRoot) FileStatReader.SetOwner(planted, Nobody, Nobody);
            else File.SetUnixFileMode(planted, (UnixFileMode)0x1ED); // 0755: not as SecretFile makes them
            File.CreateSymbolicLink(link, victim);
            Tools.SecretFile.SweepOrphans();
            Assert.False(Directory.Exists(mine));
            Assert.True(File.Exists(Path.Combine(planted, "x")));
            Assert.Equal(20, Directory.GetFiles(victim).Length);
        }
        finally
        {
            foreach (var p in new[] { mine, planted, link }) TreeDeleter.Delete(p);
        }
    }
}

public class ToolTrustTests : IDisposable
{
    readonly TempDir _dir = new("exo-tools");
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_tool_in_a_folder_or_file_others_can_write_is_not_run_as_root()
    {
        // Finding 2.14: the first file named like the tool on -ToolPath or PATH was run, whoever could write it.
        if (!FileStatReader.IsRoot) throw new InvalidOperationException("this test needs root (the check applies to root)");
        var open = Directory.CreateDirectory(Path.Combine(_dir.Path, "open")).FullName;
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777, as a folder the eXo account could plant in
        var planted = Path.Combine(open, "pg_dump");
        File.WriteAllText(planted, "#!/bin/sh\nid > /tmp/owned\n");
        File.SetUnixFileMode(planted, (UnixFileMode)0x1ED);
        Assert.Equal("ExoBackup.UnsafeTool", Assert.Throws<ExoBackupException>(() => Tools.ExternalTool.Find([open], "postgresql-client", "pg_dump")).ErrorId);

        var shut = Directory.CreateDirectory(Path.Combine(_dir.Path, "shut")).FullName;
        File.SetUnixFileMode(shut, (UnixFileMode)0x1ED);
        var writable = Path.Combine(shut, "pg_dump");
        File.WriteAllText(writable, "#!/bin/sh\n");
        File.SetUnixFileMode(writable, (UnixFileMode)0x1FD); // 0775: its group may change it
        Assert.Equal("ExoBackup.UnsafeTool", Assert.Throws<ExoBackupException>(() => Tools.ExternalTool.Find([shut], "postgresql-client", "pg_dump")).ErrorId);
        File.SetUnixFileMode(writable, (UnixFileMode)0x1ED);
        Assert.Equal(writable, Tools.ExternalTool.Find([shut], "postgresql-client", "pg_dump").Path);
        Assert.Equal("pg_dump", Tools.ExternalTool.Find([], "postgresql-client", "pg_dump").Name); // Debian's, through its link
    }
}
