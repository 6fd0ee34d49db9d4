using System.IO.Compression;
using ExoBackup.Engine.Chat;
using ExoBackup.Engine.Repository;
using ExoBackup.TestSupport;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using MongoDB.Driver.Core.Configuration;

namespace ExoBackup.Engine.Tests;

/// <summary>The driver path of Backup-ExoChat through the MongoDB test server (tests/Support/MongoTestServer).</summary>
public class ChatTests : IDisposable
{
    const string User = "chat", Password = "chat:pa$$ \"word\"";
    readonly MongoTestServer _server = new(0, User, Password);
    readonly TempDir _dir = new("exo-chat");

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    ChatTarget Target(string db = "chat", string? password = Password) => new([$"127.0.0.1:{_server.Port}"], db, User, password, "admin");

    SnapshotEntry Snapshot(string name) => new(name, Directory.CreateDirectory(Path.Combine(_dir.Path, name)).FullName, SnapshotStatus.InProgress, new SnapshotManifest());

    static BsonDocument EveryType(int i) => new()
    {
        { "_id", ObjectId.GenerateNewId() }, { "double", 1.5 + i }, { "string", $"message {i} — ünïcödé 文字" },
        { "doc", new BsonDocument { { "nested", new BsonDocument("deep", new BsonArray { 1, "two", new BsonDocument("three", 3) }) } } },
        { "array", new BsonArray { 1, 2.5, "x", BsonNull.Value } }, { "binary", new BsonBinaryData(new byte[] { 0, 1, 2, 255 }) },
        { "uuid", new BsonBinaryData(Guid.NewGuid(), GuidRepresentation.Standard) }, { "bool", i % 2 == 0 },
        { "date", new BsonDateTime(DateTime.UtcNow.Date.AddMinutes(i)) }, { "null", BsonNull.Value },
        { "regex", new BsonRegularExpression("^eXo", "i") }, { "js", new BsonJavaScript("function() { return 1; }") },
        { "int32", i }, { "timestamp", new BsonTimestamp(1700000000, i) }, { "int64", (long)i << 40 },
        { "decimal", new BsonDecimal128(Decimal128.Parse("1234.5678")) }, { "min", BsonMinKey.Value }, { "max", BsonMaxKey.Value },
    };

    [Fact]
    public void The_driver_writes_mongodumps_layout_and_restores_it()
    {
        var client = ChatClient.Create(Target());
        var db = client.GetDatabase("chat");
        var messages = Enumerable.Range(0, 2500).Select(EveryType).ToList();
        db.GetCollection<BsonDocument>("messages").InsertMany(messages);
        var big = new BsonDocument { { "_id", "big" }, { "payload", new BsonBinaryData(new byte[16 * 1024 * 1024 - 1024]) } };
        db.GetCollection<BsonDocument>("attachments").InsertOne(big);
        for (var c = 0; c < 25; c++) db.GetCollection<BsonDocument>($"room_{c:D2}").InsertOne(new BsonDocument { { "_id", c }, { "name", $"room {c}" } });
        db.RunCommand<BsonDocument>(new BsonDocument { { "create", "empty" } });
        db.RunCommand<BsonDocument>(new BsonDocument { { "create", "notifications" }, { "capped", true }, { "size", 1048576 } });
        db.RunCommand<BsonDocument>(new BsonDocument { { "create", "recent" }, { "viewOn", "messages" }, { "pipeline", new BsonArray { new BsonDocument("$limit", 10) } } });
        db.RunCommand<BsonDocument>(new BsonDocument
        {
            { "createIndexes", "messages" },
            { "indexes", new BsonArray
                {
                    new BsonDocument { { "key", new BsonDocument("string", 1) }, { "name", "string_1" }, { "unique", true } },
                    new BsonDocument { { "key", new BsonDocument { { "int32", 1 }, { "date", -1 } } }, { "name", "int32_1_date_-1" } },
                    new BsonDocument { { "key", new BsonDocument("date", 1) }, { "name", "ttl" }, { "expireAfterSeconds", 3600 } },
                } },
        });

        var s = Snapshot("snap");
        var part = ChatBackupService.Backup(s, Target(), ChatMethod.Driver, [], NullOperationLog.Instance, default);
        Assert.Equal("MongoDB.Driver", part.Tool);
        Assert.Equal("6.0.99-exobackup-test", part.Chat.ServerVersion);
        Assert.Contains("chat/chat/messages.bson.gz", part.Files.Select(f => f.Path));
        Assert.Contains("chat/chat/recent.metadata.json.gz", part.Files.Select(f => f.Path));
        Assert.DoesNotContain("chat/chat/recent.bson.gz", part.Files.Select(f => f.Path));

        // The files are mongodump's: raw BSON back to back, and canonical extended JSON metadata.
        var read = ChatArchive.ReadDocuments(Path.Combine(s.Path, "chat", "chat", "messages.bson.gz")).Select(d => BsonSerializer.Deserialize<BsonDocument>(d.Slice.AccessBackingBytes(0).Array)).ToList();
        Assert.Equal(messages, read);
        Assert.Equal(16 * 1024 * 1024 - 1024, ChatArchive.ReadDocuments(Path.Combine(s.Path, "chat", "chat", "attachments.bson.gz")).Single()["payload"].AsByteArray.Length);
        using (var gz = new GZipStream(File.OpenRead(Path.Combine(s.Path, "chat", "chat", "messages.metadata.json.gz")), CompressionMode.Decompress))
        using (var r = new StreamReader(gz))
        {
            var meta = BsonSerializer.Deserialize<BsonDocument>(r.ReadToEnd());
            Assert.Equal("messages", meta["collectionName"].AsString);
            Assert.Equal("collection", meta["type"].AsString);
            Assert.Equal(32, meta["uuid"].AsString.Length);
            Assert.Equal(4, meta["indexes"].AsBsonArray.Count);
        }
        Assert.Equal("29 collection(s), 2,526 document(s) parsed, as recorded", ChatArchive.VerifyArchive(s, part));

        // Restore under another name, through the driver.
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var (collections, documents, kept) = ChatRestoreService.Restore(repo, s, part, Target("chat_restored"), ChatMethod.Driver, [], false, "T1", NullOperationLog.Instance, default);
        Assert.Null(kept);
        var restored = client.GetDatabase("chat_restored");
        Assert.Equal(messages, restored.GetCollection<BsonDocument>("messages").Find(FilterDefinition<BsonDocument>.Empty).ToList());
        var indexes = restored.RunCommand<BsonDocument>(new BsonDocument("listIndexes", "messages"))["cursor"]["firstBatch"].AsBsonArray;
        Assert.Contains(indexes, x => x["name"] == "string_1" && x["unique"].AsBoolean);
        Assert.Contains(indexes, x => x["name"] == "ttl" && x["expireAfterSeconds"].ToInt32() == 3600);
        var infos = restored.RunCommand<BsonDocument>(new BsonDocument("listCollections", 1))["cursor"]["firstBatch"].AsBsonArray.ToDictionary(x => x["name"].AsString);
        Assert.True(infos["notifications"]["options"]["capped"].AsBoolean);
        Assert.Equal("messages", infos["recent"]["options"]["viewOn"].AsString);
        Assert.True(infos.ContainsKey("empty"));
        Assert.Equal(29, collections);

        // Restoring again over it keeps what it replaces as a dump in the repository.
        var again = ChatRestoreService.Restore(repo, s, part, Target("chat_restored"), ChatMethod.Driver, [], false, "T2", NullOperationLog.Instance, default);
        Assert.NotNull(again.Kept);
        Assert.True(File.Exists(Path.Combine(again.Kept!, "messages.bson.gz")));
    }

    [Fact]
    public void A_damaged_bson_file_is_caught()
    {
        var db = ChatClient.Create(Target()).GetDatabase("chat");
        db.GetCollection<BsonDocument>("users").InsertMany(Enumerable.Range(0, 100).Select(i => new BsonDocument { { "_id", i }, { "name", $"user {i}" } }));
        var s = Snapshot("snap2");
        var part = ChatBackupService.Backup(s, Target(), ChatMethod.Driver, [], NullOperationLog.Instance, default);
        var file = Path.Combine(s.Path, "chat", "chat", "users.bson.gz");
        var raw = new MemoryStream();
        using (var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress)) gz.CopyTo(raw);
        var bytes = raw.ToArray();
        bytes[200] = 0xFF; // a length or type byte in the middle
        using (var w = new GZipStream(File.Create(file), CompressionLevel.Fastest)) w.Write(bytes[..^30]);
        Assert.ThrowsAny<Exception>(() => ChatArchive.VerifyArchive(s, part));
    }

    [Fact]
    public void A_wrong_password_is_an_authentication_error_without_the_password()
    {
        var e = Assert.Throws<ExoBackupException>(() => ChatBackupService.Backup(Snapshot("snap3"), Target(password: "Wrong-Pass-77"), ChatMethod.Driver, [], NullOperationLog.Instance, default));
        Assert.Equal("ExoBackup.DatabaseAuthenticationFailed", e.ErrorId);
        Assert.DoesNotContain("Wrong-Pass-77", e.Message);
    }

    [Fact]
    public void The_config_file_holds_the_password_and_the_uri_does_not()
    {
        var yaml = MongoTools.ConfigYaml(Target());
        Assert.Contains("password: \"chat:pa$$ \\\"word\\\"\"", yaml);
        Assert.DoesNotContain(Password, Target().Uri());
        Assert.Equal($"mongodb://chat@127.0.0.1:{_server.Port}/chat?authSource=admin", Target().Uri());
    }
}

public class ChatConnectionStringTests
{
    [Fact]
    public void Reads_hosts_database_user_and_auth_source()
    {
        var t = ChatTarget.Parse("mongodb://chat:s%40cret@m1:27018,m2/exochat?authSource=auth&w=majority", null, null, null);
        Assert.Equal(["m1:27018", "m2:27017"], t.Hosts);
        Assert.Equal(("exochat", "chat", "s@cret", "auth"), (t.Database, t.User!, t.Password!, t.AuthDatabase));
        Assert.DoesNotContain("s@cret", t.Uri());
        var plain = ChatTarget.Parse("mongodb://localhost", "chat", "u", "p");
        Assert.Equal(["localhost:27017"], plain.Hosts);
        Assert.Equal(("chat", "u", "p", "admin"), (plain.Database, plain.User!, plain.Password!, plain.AuthDatabase));
        Assert.Equal("ExoBackup.InvalidConnectionString", Assert.Throws<ExoBackupException>(() => ChatTarget.Parse("mongodb+srv://x:27017/y", null, null, null)).ErrorId);
    }

    [Fact]
    public void Reads_a_mongodb_srv_string_whose_name_the_driver_looks_up()
    {
        var t = ChatTarget.Parse("mongodb+srv://chat:s%40cret@Cluster0.example.net/exochat?authSource=auth&retryWrites=true&w=majority", null, null, null);
        Assert.True(t.Srv);
        Assert.Equal(["cluster0.example.net"], t.Hosts);
        Assert.Equal(("exochat", "chat", "s@cret", "auth"), (t.Database, t.User!, t.Password!, t.AuthDatabase));
        Assert.Equal("mongodb+srv://chat@cluster0.example.net/exochat?authSource=auth", t.Uri());
        Assert.DoesNotContain("s@cret", MongoTools.ConfigYaml(t).Split('\n')[0]);

        var given = ChatTarget.Parse("mongodb+srv://cluster0.example.net", "chat", "u", "p");
        Assert.Equal(("chat", "u", "p", "admin", true), (given.Database, given.User!, given.Password!, given.AuthDatabase, given.Srv));

        // The driver gets the name, not a host: it looks the servers up in DNS when it connects, with TLS.
        var settings = ChatClient.Settings(t);
        Assert.Equal(ConnectionStringScheme.MongoDBPlusSrv, settings.Scheme);
        Assert.Equal("cluster0.example.net", settings.Servers.Single().Host);
        Assert.True(settings.UseTls);
        Assert.False(settings.DirectConnection);
        Assert.Equal(("auth", "chat"), (settings.Credential.Source, settings.Credential.Username));
        var plain = ChatClient.Settings(ChatTarget.Parse("mongodb://m1:27018/exochat", null, null, null));
        Assert.Equal((ConnectionStringScheme.MongoDB, false, true), (plain.Scheme, plain.UseTls, plain.DirectConnection));
        Assert.Equal(new MongoServerAddress("m1", 27018), plain.Servers.Single());
    }

    [Theory]
    [InlineData("mongodb+srv://chat:Secret-99@cluster0.example.net:27017/exochat")] // a port
    [InlineData("mongodb+srv://chat:Secret-99@a.example.net,b.example.net/exochat")] // two names
    [InlineData("mongodb+srv://chat:Secret-99@/exochat")] // none
    public void A_mongodb_srv_string_with_no_name_or_more_than_one_is_refused(string connectionString)
    {
        var e = Assert.Throws<ExoBackupException>(() => ChatTarget.Parse(connectionString, null, null, null));
        Assert.Equal("ExoBackup.InvalidConnectionString", e.ErrorId);
        Assert.Contains("mongodb+srv://[user@]host/database (one host, no port)", e.RecommendedAction);
        Assert.DoesNotContain("Secret-99", e.ToString() + e.RecommendedAction);
    }

    [Theory]
    [InlineData("mongodb://")] // no host
    [InlineData("mongodb:///exochat")]
    [InlineData("mongodb://chat:Secret-99/x@m1/exochat")] // a / in the password, not percent-encoded
    [InlineData("mongodb://chat:Secret-99@m1:27O17/exochat")] // a letter O in the port
    [InlineData("mongodb://chat:Secret-99@m1/exochat?authSource=")]
    [InlineData("http://chat:Secret-99@m1/exochat")]
    public void A_bad_connection_string_is_a_clear_error_that_does_not_show_the_password(string connectionString)
    {
        var e = Assert.Throws<ExoBackupException>(() => ChatTarget.Parse(connectionString, null, null, null));
        Assert.Equal("ExoBackup.InvalidConnectionString", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("connection string", e.Message);
        Assert.StartsWith("Give mongodb://", e.RecommendedAction);
        Assert.DoesNotContain("Secret-99", e.ToString() + e.RecommendedAction);
    }
}
