using ExoBackup.Engine.Databases;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// The custom-format walker against real pg_dump 15 archives (Data/*.dump, made by
/// Data/New-TestDumps.ps1): whole ones list their tables, every cut or padded one is refused.
/// </summary>
public class PgCustomArchiveTests
{
    static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    static readonly string[] Tables = ["jcr.jcr_sitem", "jcr.jcr_svalue", "public.soc_activities", "public.empty_table", "public.blobs_ref"];

    [Theory]
    [InlineData("exo-like.dump")]        // default compression, a large object
    [InlineData("exo-like-z0.dump")]     // no compression
    [InlineData("exo-like-z9.dump")]
    public void A_whole_archive_lists_every_table_with_data(string name)
    {
        var tables = PgCustomArchive.ReadTableData(Data(name));
        Assert.NotNull(tables);
        Assert.Equal(Tables.Order(), tables!.Order());
    }

    [Theory]
    [InlineData("exo-like.dump")]
    [InlineData("exo-like-z0.dump")]
    public void An_archive_cut_anywhere_is_refused(string name)
    {
        var whole = File.ReadAllBytes(Data(name));
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "cut.dump");
        // Every 1/97 of the file, and each of its last 40 bytes (the end of the last block).
        var cuts = Enumerable.Range(1, 96).Select(i => (int)((long)whole.Length * i / 97))
            .Concat(Enumerable.Range(1, 40).Select(i => whole.Length - i)).Distinct().ToList();
        foreach (var cut in cuts)
        {
            File.WriteAllBytes(path, whole[..cut]);
            try
            {
                var tables = PgCustomArchive.ReadTableData(path);
                // Cut inside the magic: not recognised as an archive at all, which is refused as well (pg_restore decides).
                Assert.True(tables is null && cut < 5, $"a cut at byte {cut} of {whole.Length} passed");
            }
            catch (InvalidDataException) { }
        }
    }

    [Fact]
    public void Bytes_after_the_last_block_are_refused()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "padded.dump");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(Data("exo-like.dump")), 0]);
        Assert.Throws<InvalidDataException>(() => PgCustomArchive.ReadTableData(path));
    }

    [Fact]
    public void Other_files_and_unknown_versions_are_left_to_pg_restore()
    {
        using var dir = new TempDir();
        Assert.Null(PgCustomArchive.ReadTableData(dir.Write("plain.sql", "--\n-- PostgreSQL database dump\n--\n")));
        var bytes = File.ReadAllBytes(Data("exo-like.dump"));
        bytes[6] = 17; // archive version 1.17: fields this reader does not know
        var future = Path.Combine(dir.Path, "future.dump");
        File.WriteAllBytes(future, bytes);
        Assert.Null(PgCustomArchive.ReadTableData(future));
    }
}
