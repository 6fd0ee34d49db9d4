using System.Text.Json;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// Typed part details against manifests of format 1 as the code before them wrote them
/// (Data/manifest-format1-*.json, real snapshots made by Data/New-TestManifests.ps1): read into
/// the typed records, written back byte for byte, a forged value refused as RepositoryCorrupt.
/// </summary>
public class PartDetailsTests : IDisposable
{
    readonly TempDir _dir = new("exo-details");
    public void Dispose() => _dir.Dispose();

    static string Fixture(string engine) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", $"manifest-format1-{engine}.json"));

    static SnapshotManifest Read(string json) => JsonSerializer.Deserialize<SnapshotManifest>(json, SnapshotManifest.Json)!;

    static PartRecord Part(SnapshotManifest m, string component) => m.Parts.Single(p => p.Component == component);

    static PartRecord PartFrom(string component, string details) =>
        JsonSerializer.Deserialize<PartRecord>($$"""{"component":"{{component}}","name":"x","details":{{details}}}""", SnapshotManifest.Json)!;

    [Fact]
    public void A_PostgreSQL_snapshot_of_format_1_reads_into_the_typed_details()
    {
        var m = Read(Fixture("postgresql"));
        var db = Part(m, "Database").Database;
        Assert.Equal(DatabaseEngine.PostgreSql, db.Engine);
        Assert.Equal(("custom", "db/exo.dump", "127.0.0.1", 34579, "exo", "exo"), (db.Format, db.Dump, db.Host, db.Port, db.DatabaseName, db.User));
        Assert.Equal(["idm", "jcr", "jpa"], db.Datasources);
        Assert.Equal(("15.18 (Debian 15.18-0+deb12u1)", 0L, "0/1926D88"), (db.ServerVersion, db.OtherSessions, db.WalLsn));
        Assert.Equal(new Dictionary<string, long> { ["jpa.wiki_page"] = 2, ["public.jcr_item"] = 20 }, db.RowCounts);
        Assert.Null(db.BinlogFile);
        Assert.Empty(db.Other);

        var chat = Part(m, "Chat").Chat;
        Assert.Equal(["127.0.0.1:33373"], chat.Hosts);
        Assert.Equal(("chat", "admin", "chat", "6.0.99-exobackup-test"), (chat.DatabaseName, chat.AuthenticationDatabase, chat.User, chat.ServerVersion));
        Assert.False(chat.IsSrv);
        Assert.Equal(new Dictionary<string, long> { ["messages"] = 30, ["notifications"] = 0, ["room_rooms"] = 20, ["users"] = 50 }, chat.DocumentCounts);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T12:31:47.8695716+00:00"), chat.DumpedAt);

        var conf = Part(m, "Configuration").Tree;
        Assert.Equal(("zstd (libzstd)", 3, "full", 0L, 3959L), (conf.Compression, conf.Level, conf.Mode, conf.FilesRehashed, conf.BytesArchived));
        Assert.Equal(("configuration.tar.zst", "configuration.index.jsonl.zst"), (conf.Archive, conf.Index));
        Assert.Equal("9ec0ed95b2bb9191bf81c5610523526bafbd3f458ab307b35f68b0d48e52d9ba", conf.CodecKeySha256);
        var data = Part(m, "DataDir").Tree;
        Assert.Equal(("datadir.tar.zst", "jcr/swap, jta", null), (data.Archive, data.Excluded, data.Parent));
    }

    [Fact]
    public void A_MariaDB_snapshot_of_format_1_reads_into_the_typed_details()
    {
        var db = Part(Read(Fixture("mysql")), "Database").Database;
        Assert.Equal((DatabaseEngine.MySql, "sql+zstd", "db/exo.sql.zst", 43247), (db.Engine, db.Format, db.Dump, db.Port));
        Assert.Equal(("binlog.000001", 1270L, "utf8mb4", "utf8mb4_unicode_ci"), (db.BinlogFile, db.BinlogPosition, db.Charset, db.Collation));
        Assert.Equal(3, db.RowCounts!["soc"]);
        Assert.Equal(3, DatabaseBackupService.RowCounts(Part(Read(Fixture("mysql")), "Database"))["soc"]);
    }

    [Theory]
    [InlineData("postgresql")]
    [InlineData("mysql")]
    public void A_manifest_read_and_written_again_is_the_same_to_the_byte(string engine)
    {
        var json = Fixture(engine);
        Assert.Equal(json, JsonSerializer.Serialize(Read(json), SnapshotManifest.Json)); // details never used: as read
        var m = Read(json);
        foreach (var p in m.Parts) Assert.IsNotType<OtherDetails>(p.Details); // every part read into its typed details
        Assert.Equal(json, JsonSerializer.Serialize(m, SnapshotManifest.Json)); // and written from them
    }

    [Fact]
    public void A_new_part_records_the_strings_format_1_has_always_held()
    {
        var part = new PartRecord { Component = DatabaseBackupService.Component, Name = "exo" };
        part.Database.Format = "custom";
        part.Database.Dump = "db/exo.dump";
        var t = new DatabaseTarget(DatabaseEngine.PostgreSql, "db", 5432, "exo", "exo", "secret", ["idm", "jcr"]);
        var probe = new DatabaseProbe("15.4", 15, 2, Task.FromResult<IReadOnlyList<TableCount>>([new("public.a", 1), new("jpa.b", 20)])) { WalLsn = "0/16B3748" };
        DatabaseEngines.Record(part, t, probe);
        Assert.Equal(new Dictionary<string, string>
        {
            ["format"] = "custom", ["dump"] = "db/exo.dump", ["engine"] = "PostgreSql", ["host"] = "db", ["port"] = "5432", ["database"] = "exo",
            ["user"] = "exo", ["datasources"] = "idm,jcr", ["serverVersion"] = "15.4", ["otherSessions"] = "2", ["walLsn"] = "0/16B3748",
            ["rowCounts"] = """{"public.a":1,"jpa.b":20}""",
        }.ToList(), part.RecordedDetails.ToList()); // in this order, as the code before typed details wrote them
        Assert.DoesNotContain("secret", JsonSerializer.Serialize(part, SnapshotManifest.Json));
    }

    [Theory]
    [InlineData("Database", "port", "54x32")]
    [InlineData("Database", "port", "+5432")]
    [InlineData("Database", "port", "70000")]
    [InlineData("Database", "port", "")]
    [InlineData("Database", "otherSessions", "-1")]
    [InlineData("Database", "engine", "Oracle9")]
    [InlineData("Database", "engine", "1")]
    [InlineData("Database", "rowCounts", "not json")]
    [InlineData("Database", "rowCounts", "[1,2]")]
    [InlineData("Database", "rowCounts", "null")]
    [InlineData("Database", "rowCounts", "{\\\"t\\\":-1}")]
    [InlineData("Database", "rowCounts", "{\\\"t\\\":\\\"many\\\"}")]
    [InlineData("Chat", "documentCounts", "{\\\"messages\\\":")]
    [InlineData("Chat", "dumpedAt", "yesterday")]
    [InlineData("Chat", "scheme", "http")]
    [InlineData("Configuration", "level", "three")]
    [InlineData("Configuration", "codecKeySha256", "ABC")]
    [InlineData("DataDir", "bytesArchived", "1e6")]
    public void A_forged_value_is_RepositoryCorrupt_naming_the_part_and_key(string component, string key, string value)
    {
        var part = PartFrom(component, $$"""{"{{key}}":"{{value}}"}""");
        var e = Assert.Throws<ExoBackupException>(() => part.Details);
        Assert.Equal("ExoBackup.RepositoryCorrupt", e.ErrorId);
        Assert.Contains($"{component}-x", e.Message);
        Assert.Contains(key, e.Message);
        Assert.Equal(JsonSerializer.Deserialize<string>($"\"{value}\""), part.RecordedDetails[key]);
    }

    [Fact]
    public void Values_the_code_needs_and_the_record_lacks_are_RepositoryCorrupt()
    {
        var chat = PartFrom("Chat", """{"database":"chat"}""");
        Assert.Equal("ExoBackup.RepositoryCorrupt", Assert.Throws<ExoBackupException>(() => ChatArchive.DocumentCounts(chat)).ErrorId);
        var db = PartFrom("Database", """{"engine":"MySql"}""");
        Assert.Contains("no dump", Assert.Throws<ExoBackupException>(() => DatabaseBackupService.DumpOf(db)).Message);
        Assert.Contains("no rowCounts", Assert.Throws<ExoBackupException>(() => DatabaseBackupService.RowCounts(db)).Message);
        Assert.Contains("no known engine", Assert.Throws<ExoBackupException>(() =>
            DatabaseBackupService.TargetOf(PartFrom("Database", "{}"), null, "db", null, "u", "p")).Message);
    }

    [Fact]
    public void Keys_and_components_this_version_does_not_know_are_kept_as_they_were()
    {
        var part = PartFrom("Database", """{"port":"5432","replicaOf":"db2"}""");
        Assert.Equal(5432, part.Database.Port);
        Assert.Equal("db2", part.Database.Other["replicaOf"]);
        part.Database.Port = 5433;
        Assert.Equal("""{"port":"5433","replicaOf":"db2"}""", JsonSerializer.Serialize(part.RecordedDetails));

        var other = PartFrom("Search", """{"index":"es.tar","port":"not a number"}""");
        Assert.IsType<OtherDetails>(other.Details);
        Assert.Equal("""{"index":"es.tar","port":"not a number"}""", JsonSerializer.Serialize(other.RecordedDetails));
        Assert.Throws<InvalidOperationException>(() => other.Tree); // a programming error, not a damaged record
    }

    [Fact]
    public void A_forged_value_stops_a_restore_and_is_a_finding_of_Test_ExoSnapshot()
    {
        var p = new TestBundle(_dir).DataFile("files/a.txt", "a").CodecKey("key").Discover();
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupConfiguration(s, p, new TreeBackupOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        var full = repo.Complete(s.Id, false, NullOperationLog.Instance);
        Assert.DoesNotContain(SnapshotVerifier.Verify(repo, full.Id, VerifyLevel.Archive, NullOperationLog.Instance, default), f => !f.Passed);

        var manifest = Path.Combine(full.Path, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"level\": \"3\"", "\"level\": \"3; rm -rf /\""));
        var forged = repo.Get(full.Id);
        var finding = Assert.Single(SnapshotVerifier.Verify(repo, full.Id, VerifyLevel.Archive, NullOperationLog.Instance, default),
            f => !f.Passed && f.File == "manifest.json" && f.Part == "Configuration");
        Assert.Contains("level", finding.Message);
        var e = Assert.Throws<ExoBackupException>(() => TreeRestore.Run(repo, forged, PlatformFilesBackupService.Configuration,
            new TreeRestoreOptions { TargetFor = prefix => Path.Combine(_dir.Path, "target", prefix) }, NullOperationLog.Instance, default));
        Assert.Equal("ExoBackup.RepositoryCorrupt", e.ErrorId);
    }
}
