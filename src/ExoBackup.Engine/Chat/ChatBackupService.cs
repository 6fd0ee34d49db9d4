// Chat owns eXo Chat's MongoDB database: where it is (ChatTarget), the client and its errors (ChatClient), mongodump/mongorestore (MongoTools),
// its backup in mongodump's layout (ChatBackupService), reading and verifying that dump (ChatArchive) and its staged restore (ChatRestoreService, ChatRestorer).
using ExoBackup.Engine.IO;
using System.IO.Compression;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Driver;

namespace ExoBackup.Engine.Chat;

/// <summary>
/// Backup-ExoChat's engine: mongodump where it is installed (the password in a 0600 --config file),
/// else the driver writing mongodump's own layout, &lt;db&gt;/&lt;collection&gt;.bson.gz (the documents
/// back to back) and .metadata.json.gz (options, indexes, uuid, collectionName, type), which
/// mongorestore --gzip reads. Restores are ChatRestoreService's.
/// </summary>
public static class ChatBackupService
{
    public const string Component = PartComponents.Chat;

    static readonly JsonWriterSettings CanonicalJson = new() { OutputMode = JsonOutputMode.CanonicalExtendedJson };

    public static PartRecord Backup(SnapshotEntry s, ChatTarget t, ChatMethod method, IReadOnlyList<string> toolPaths, IOperationLog log, CancellationToken ct)
    {
        var client = ChatClient.Create(t);
        var db = client.GetDatabase(t.Database);
        var version = ChatClient.Guard(t, () => client.GetDatabase("admin").RunCommand<BsonDocument>(new BsonDocument("buildInfo", 1), cancellationToken: ct)["version"].AsString);
        var collections = ChatClient.ListCollections(db, t, ct);
        var tool = MongoTools.Find(method, toolPaths, "mongodump", log);
        var part = new PartRecord { Component = Component, Name = Component };
        var outDir = Path.Combine(s.Path, "chat");
        var counts = tool is not null ? Mongodump(tool, t, outDir, collections, part, ct) : DriverDump(db, t, outDir, collections, part, log, ct);
        PrivateFiles.Restrict(outDir); // mongodump's files follow its umask
        part.Files = DatabaseEngines.Files(s, Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(s.Path, f)).Order(StringComparer.Ordinal));
        var recorded = part.Chat;
        recorded.Hosts = t.Hosts;
        if (t.Srv) recorded.Scheme = ChatDetails.SrvScheme; // the hosts are an SRV name (ChatRestorer reads it back)
        recorded.DatabaseName = t.Database;
        recorded.AuthenticationDatabase = t.AuthDatabase;
        recorded.User = t.User;
        recorded.ServerVersion = version;
        recorded.DocumentCounts = counts;
        recorded.DumpedAt = DateTimeOffset.UtcNow;
        part.ItemCount = collections.Count;
        part.ChangedItems = counts.Values.Sum();
        part.StoredBytes = part.Files.Sum(f => f.Size);
        return part;
    }

    internal static Dictionary<string, long> DriverDump(IMongoDatabase db, ChatTarget t, string outDir, List<BsonDocument> collections, PartRecord part, IOperationLog log, CancellationToken ct)
    {
        part.Tool = "MongoDB.Driver";
        part.ToolVersion = typeof(MongoClient).Assembly.GetName().Version?.ToString() ?? "";
        var dir = Path.Combine(outDir, t.Database);
        PrivateFiles.CreateDirectory(dir);
        var counts = new Dictionary<string, long>();
        var i = 0;
        foreach (var c in collections)
        {
            ct.ThrowIfCancellationRequested();
            var name = c["name"].AsString;
            var type = c.GetValue("type", "collection").AsString;
            log.Progress(new ProgressUpdate(70, $"Dumping {t.Describe()}", $"{name} ({++i} of {collections.Count})", 100 * i / Math.Max(1, collections.Count)));
            var indexes = type == "view" ? new BsonArray()
                : ChatClient.Guard(t, () => new BsonArray(db.RunCommand<BsonDocument>(new BsonDocument("listIndexes", name), cancellationToken: ct)["cursor"]["firstBatch"].AsBsonArray));
            var uuid = c.GetValue("info", new BsonDocument()).AsBsonDocument.GetValue("uuid", BsonNull.Value);
            var metadata = new BsonDocument
            {
                { "indexes", indexes },
                { "uuid", uuid.IsBsonBinaryData ? Convert.ToHexString(uuid.AsBsonBinaryData.Bytes).ToLowerInvariant() : "" },
                { "collectionName", name },
                { "type", type },
                { "options", c.GetValue("options", new BsonDocument()) },
            };
            WriteGzip(Path.Combine(dir, name + ".metadata.json.gz"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(metadata.ToJson(CanonicalJson))));
            if (type == "view") continue; // mongodump keeps a view as its definition only
            long n = 0;
            WriteGzip(Path.Combine(dir, name + ".bson.gz"), s =>
            {
                var coll = db.GetCollection<RawBsonDocument>(name);
                using var cursor = ChatClient.Guard(t, () => coll.FindSync(FilterDefinition<RawBsonDocument>.Empty, new FindOptions<RawBsonDocument> { BatchSize = 1000 }, ct));
                while (ChatClient.Guard(t, () => cursor.MoveNext(ct)))
                    foreach (var doc in cursor.Current)
                        using (doc)
                        {
                            var bytes = doc.Slice.AccessBackingBytes(0);
                            if (bytes.Count >= doc.Slice.Length) s.Write(bytes.Array!, bytes.Offset, doc.Slice.Length);
                            else s.Write(doc.ToBson());
                            n++;
                        }
            });
            counts[name] = n;
            part.SourceBytes += new FileInfo(Path.Combine(dir, name + ".bson.gz")).Length;
        }
        log.Progress(new ProgressUpdate(70, $"Dumping {t.Describe()}", "done", Completed: true));
        return counts;
    }

    static void WriteGzip(string path, Action<Stream> write)
    {
        using var file = SnapshotRepository.CreateFile(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        write(gz);
    }

    static Dictionary<string, long> Mongodump(ExternalTool tool, ChatTarget t, string outDir, List<BsonDocument> collections, PartRecord part, CancellationToken ct)
    {
        part.Tool = "mongodump";
        part.ToolVersion = tool.ReadVersion(ct)?.ToString() ?? "";
        using (var config = new SecretFile("mongodump.yaml", MongoTools.ConfigYaml(t)))
        {
            var code = tool.Run(["--config=" + config.Path, "--db", OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe()), "--out", outDir, "--gzip"], null, null, null, ct, out var stderr);
            if (code != 0) throw tool.Failed(code, stderr, t.Password);
        }
        var dir = Path.Combine(outDir, t.Database);
        var missing = collections.Select(c => c["name"].AsString).Where(n => !File.Exists(Path.Combine(dir, n + ".metadata.json.gz"))).ToList();
        if (missing.Count > 0)
            throw Errors.DumpIncomplete(
                $"mongodump exited 0 but wrote nothing for {missing.Count} collection(s) of {t.Describe()}, e.g. {missing[0]}.", t.Describe(), "mongodump");
        return collections.Where(c => c.GetValue("type", "collection") != "view")
            .ToDictionary(c => c["name"].AsString, c => ChatArchive.CountDocuments(Path.Combine(dir, c["name"].AsString + ".bson.gz")));
    }
}
