using System.Text;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Storage;
using Xunit;

namespace ExoBackup.Engine.Tests;

/// <summary>The storage seam's local folder: what the repository relies on, and what a writer of the repository cannot make it do.</summary>
public sealed class StorageTests : IDisposable
{
    readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    LocalFolderStorage NewStorage() => new(Directory.CreateDirectory(Path.Combine(_dir.Path, "repo")).FullName);

    static string Text(IRepositoryStorage s, string name)
    {
        using var r = new StreamReader(s.Load(name));
        return r.ReadToEnd();
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a\\b")]
    public void Names_that_leave_the_storage_or_are_ambiguous_are_refused(string name)
    {
        var s = NewStorage();
        Assert.Equal("ExoBackup.RepositoryCorrupt", Assert.Throws<ExoBackupException>(() => s.Save(name, "x"u8)).ErrorId);
        Assert.Throws<ExoBackupException>(() => s.Load(name));
        Assert.Throws<ExoBackupException>(() => s.Remove(name));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "outside")));
    }

    [Fact]
    public void Save_replaces_whole_creates_private_files_and_leaves_no_temporary()
    {
        var s = NewStorage();
        s.Save("snap/parts/a.json", "first"u8);
        s.Save("snap/parts/a.json", "second"u8);
        Assert.Equal("second", Text(s, "snap/parts/a.json"));
        Assert.Equal(new[] { "snap/parts/a.json" }, s.ListFiles("snap").Select(i => i.Name));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(s.PathOf("snap/parts/a.json")));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(s.PathOf("snap/parts")) & (UnixFileMode)0x1FF);
    }

    [Fact]
    public void SaveNew_succeeds_once_and_leaves_the_first_content()
    {
        var s = NewStorage();
        Assert.True(s.SaveNew("lock.json", "one"u8));
        Assert.False(s.SaveNew("lock.json", "two"u8));
        Assert.Equal("one", Text(s, "lock.json"));
        Assert.Single(Directory.GetFiles(s.Root));
    }

    [Fact]
    public void Load_reads_a_range_and_stat_gives_the_size()
    {
        var s = NewStorage();
        s.Save("f", Encoding.ASCII.GetBytes("0123456789"));
        using (var r = new StreamReader(s.Load("f", 3, 4))) Assert.Equal("3456", r.ReadToEnd());
        Assert.Equal(new StoredItem("f", false, 10), s.Stat("f"));
        Assert.Null(s.Stat("missing"));
        Assert.Throws<FileNotFoundException>(() => s.Load("missing"));
    }

    [Fact]
    public void A_link_planted_by_a_writer_of_the_repository_is_never_read_through_nor_entered()
    {
        var s = NewStorage();
        var secret = _dir.Write("secret.txt", "root's secret");
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir.Path, "elsewhere")).FullName;
        File.WriteAllText(Path.Combine(elsewhere, "inside.txt"), "x");
        s.Save("snap/keep.txt", "k"u8);
        File.CreateSymbolicLink(s.PathOf("snap/manifest.json"), secret);
        Directory.CreateSymbolicLink(s.PathOf("snap/linked"), elsewhere);

        var e = Assert.Throws<IOException>(() => s.Load("snap/manifest.json"));
        Assert.Contains("link", e.Message);
        // Listed as files of no size, never as folders: nothing under them is listed or removed.
        Assert.Equal(new[] { "snap/keep.txt", "snap/linked", "snap/manifest.json" }, s.List("snap").Select(i => i.Name));
        Assert.All(s.List("snap"), i => Assert.False(i.IsFolder));
        Assert.DoesNotContain(s.ListFiles("snap"), i => i.Name.Contains("inside"));
        s.Remove("snap");
        Assert.False(Directory.Exists(s.PathOf("snap")));
        Assert.True(File.Exists(secret));
        Assert.True(File.Exists(Path.Combine(elsewhere, "inside.txt")));
    }

    [Fact]
    public void A_manifest_replaced_by_a_link_makes_the_snapshot_damaged_not_read()
    {
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), create: true);
        var folder = Directory.CreateDirectory(Path.Combine(repo.Root, "20261101T020000Z-full")).FullName;
        var forged = _dir.Write("forged.json", "{\"id\":\"20261101T020000Z-full\",\"type\":\"Full\"}");
        File.CreateSymbolicLink(Path.Combine(folder, "manifest.json"), forged);
        var entry = Assert.Single(repo.List());
        Assert.Equal(SnapshotStatus.Damaged, entry.Status);
        Assert.Contains("link", entry.Problem);
    }

    [Fact]
    public void Publish_refuses_a_name_that_exists_and_rename_reports_nothing_to_move()
    {
        var s = NewStorage();
        s.Save("a.partial/x", "1"u8);
        s.Save("a/y", "2"u8);
        Assert.ThrowsAny<IOException>(() => s.Publish("a.partial", "a"));
        Assert.Equal("2", Text(s, "a/y"));
        Assert.False(s.Rename("nothing", "b"));
        s.Publish("a.partial", "b");
        Assert.Equal("1", Text(s, "b/x"));
        Assert.Null(s.Stat("a.partial"));
    }

    [Fact]
    public void A_repository_works_through_the_seam_alone()
    {
        // Every file of a snapshot is reached through SnapshotEntry.OpenRead: what the repository
        // writes, it reads back through the storage, whatever the storage is.
        var repo = SnapshotRepository.Open(new LocalFolderStorage(Path.Combine(_dir.Path, "seam")), create: true);
        Assert.True(repo.Storage.Stat(SnapshotRepository.MarkerFile) is { IsFolder: false });
        Assert.Empty(repo.List(includeIncomplete: true));
        Assert.Equal(Path.Combine(_dir.Path, "seam"), repo.Root);
    }
}

public sealed class SecretsInTargetsTests
{
    [Fact]
    public void Targets_say_what_they_are_but_never_their_password()
    {
        var db = new Databases.DatabaseTarget(Platform.DatabaseEngine.PostgreSql, "db.example", 5432, "exo", "exo", "s3cret-db", ["exo-jcr"]);
        var chat = new Chat.ChatTarget(["mongo.example:27017"], "chat", "exo", "s3cret-chat", "admin");
        Assert.DoesNotContain("s3cret", db.ToString());
        Assert.DoesNotContain("s3cret", chat.ToString());
        Assert.DoesNotContain("s3cret", $"{db} {chat}");
        Assert.Contains("db.example:5432/exo", db.ToString());
        Assert.Contains("mongo.example:27017/chat", chat.ToString());
    }
}
