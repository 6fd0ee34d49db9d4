using ExoBackup.Engine.IO;
using System.IO.Compression;
using System.Text.Json;
using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace ExoBackup.Engine.Chat;

public enum ChatMethod { Auto, Mongodump, Driver }

/// <summary>eXo Chat's MongoDB database: where it is and who may read it.</summary>
public sealed record ChatTarget(IReadOnlyList<string> Hosts, string Database, string? User, string? Password, string AuthDatabase)
{
    public static ChatTarget From(ChatInfo c, string? database, string? user, string? password) =>
        new(c.Hosts, database ?? c.Database, user ?? (c.Authentication ? c.User : null), password ?? (c.Authentication ? c.Password : null), c.AuthenticationDatabase);

    /// <summary>A mongodb:// URI: user and hosts, never the password (that goes in a --config file or the driver's credential).</summary>
    public string Uri(bool withDatabase = true) =>
        $"mongodb://{(User is null ? "" : System.Uri.EscapeDataString(User) + "@")}{string.Join(',', Hosts)}/{(withDatabase ? Database : "")}" +
        (User is null ? "" : $"?authSource={System.Uri.EscapeDataString(AuthDatabase)}");

    public string Describe() => $"MongoDB {string.Join(',', Hosts)}/{Database}";

    /// <summary>
    /// Backup-ExoChat's target: a connection string when given, else the platform's chat settings,
    /// with -Server (hosts), -Database and the credential in their place where given.
    /// </summary>
    public static ChatTarget Resolve(PlatformInfo platform, string? connectionString, string? server, string? database, string? user, string? password)
    {
        if (connectionString is not null) return Parse(connectionString, database, user, password);
        var chat = platform.Chat ?? (server is not null
            ? new ChatInfo(server.Split(','), database ?? "chat", user is not null, "admin", user, password, "-Server")
            : throw new ExoBackupException("ExoBackup.ChatNotFound", ErrorKind.ObjectNotFound,
                $"{platform.Home} has no eXo Chat: no gatein/conf/chat.properties, no EXO_MONGO_* settings, no exo-chat add-on.", platform.Home,
                "Give -Server (and -Database, -Credential) if the chat database lives elsewhere."));
        return From(server is null ? chat : chat with { Hosts = server.Split(',') }, database, user, password);
    }

    /// <summary>
    /// Reads mongodb://[user[:password]@]host[:port][,host…]/[database][?authSource=…]. A password in
    /// the string is taken (and never shown again); -Credential is the better place for it.
    /// </summary>
    public static ChatTarget Parse(string connectionString, string? database, string? user, string? password)
    {
        const string scheme = "mongodb://";
        if (!connectionString.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new ExoBackupException("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument,
                "A MongoDB connection string starts with mongodb:// (mongodb+srv:// needs DNS lookups this module does not make).", null,
                "Give mongodb://[user@]host:port[,host:port]/database[?authSource=admin].");
        var rest = connectionString[scheme.Length..];
        string? u = null, p = null;
        var at = rest.LastIndexOf('@', rest.IndexOf('/') is var slash and >= 0 ? slash : rest.Length - 1);
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            u = System.Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo);
            p = colon >= 0 ? System.Uri.UnescapeDataString(userInfo[(colon + 1)..]) : null;
        }
        var q = rest.IndexOf('?');
        var query = q >= 0 ? rest[(q + 1)..] : "";
        if (q >= 0) rest = rest[..q];
        var s = rest.IndexOf('/');
        var hosts = (s >= 0 ? rest[..s] : rest).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => h.Contains(':') ? h : h + ":27017").ToList();
        var db = s >= 0 && s + 1 < rest.Length ? System.Uri.UnescapeDataString(rest[(s + 1)..]) : null;
        var authSource = query.Split('&').Select(x => x.Split('=', 2)).FirstOrDefault(x => x[0] == "authSource") is { Length: 2 } a ? System.Uri.UnescapeDataString(a[1]) : "admin";
        if (hosts.Count == 0)
            throw new ExoBackupException("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument, "The MongoDB connection string names no host.", null,
                "Give mongodb://host:port/database.");
        return new ChatTarget(hosts, database ?? db ?? "chat", user ?? u, password ?? p, authSource);
    }
}

/// <summary>
/// Backup-ExoChat's engine: mongodump where it is installed (the password in a 0600 --config file),
/// else the driver writing mongodump's own layout, &lt;db&gt;/&lt;collection&gt;.bson.gz (the documents
/// back to back) and .metadata.json.gz (options, indexes, uuid, collectionName, type), which
/// mongorestore --gzip reads. Restores with mongorestore or the driver.
/// </summary>
public static class ChatParts
{
    public const string Component = "Chat";

    static readonly JsonWriterSettings CanonicalJson = new() { OutputMode = JsonOutputMode.CanonicalExtendedJson };

    public static MongoClient Client(ChatTarget t)
    {
        var settings = new MongoClientSettings
        {
            Servers = t.Hosts.Select(h => { var i = h.LastIndexOf(':'); return i > 0 ? new MongoServerAddress(h[..i], int.Parse(h[(i + 1)..])) : new MongoServerAddress(h); }),
            DirectConnection = t.Hosts.Count == 1,
            ServerSelectionTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ApplicationName = "ExoBackup",
        };
        if (t.User is not null) settings.Credential = MongoCredential.CreateCredential(t.AuthDatabase, t.User, t.Password ?? "");
        return new MongoClient(settings);
    }

    static ExoBackupException Describe(Exception e, ChatTarget t) => e switch
    {
        MongoAuthenticationException => new("ExoBackup.DatabaseAuthenticationFailed", ErrorKind.AuthenticationError,
            $"{t.Describe()} refused user '{t.User}' (authentication database {t.AuthDatabase}).", t.Describe(),
            "Check dbUser and dbPassword in gatein/conf/chat.properties, or give -Credential.", e),
        TimeoutException or MongoConnectionException => new("ExoBackup.DatabaseUnreachable", ErrorKind.ConnectionError,
            $"Cannot reach {t.Describe()}: {e.Message}", t.Describe(), "Check dbServerHosts in gatein/conf/chat.properties and that MongoDB runs.", e),
        _ => new("ExoBackup.DatabaseError", ErrorKind.InvalidOperation, $"{t.Describe()}: {e.Message}", t.Describe(), "Read MongoDB's message; the part was not recorded.", e),
    };

    static T Guard<T>(ChatTarget t, Func<T> f)
    {
        try { return f(); }
        catch (Exception e) when (e is MongoException or TimeoutException) { throw Describe(e, t); }
    }

    /// <summary>The collections and views of a database, as listCollections describes them (options, type, uuid).</summary>
    static List<BsonDocument> ListCollections(IMongoDatabase db, ChatTarget t, CancellationToken ct) =>
        Guard(t, () => db.RunCommand<BsonDocument>(new BsonDocument("listCollections", 1), cancellationToken: ct)["cursor"]["firstBatch"].AsBsonArray.Select(x => x.AsBsonDocument).ToList());

    /// <summary>mongodump or mongorestore, unless the method is Driver; with Auto, none (the driver does the work) where it is not installed.</summary>
    static ExternalTool? FindTool(ChatMethod method, IReadOnlyList<string> toolPaths, string name, IOperationLog log)
    {
        if (method == ChatMethod.Driver) return null;
        try { return ExternalTool.Find(toolPaths, "mongodb-database-tools", name); }
        catch (ExoBackupException) when (method == ChatMethod.Auto)
        {
            log.Verbose($"{name} is not installed: the driver does its work.");
            return null;
        }
    }

    /// <summary>Lists the databases: the server answers and the credentials work, or a clear error says which not.</summary>
    public static void Ping(ChatTarget t, CancellationToken ct) => Guard(t, () => Client(t).ListDatabaseNames(ct).ToList());

    public static PartRecord Backup(SnapshotEntry s, ChatTarget t, ChatMethod method, IReadOnlyList<string> toolPaths, IOperationLog log, CancellationToken ct)
    {
        var client = Client(t);
        var db = client.GetDatabase(t.Database);
        var version = Guard(t, () => client.GetDatabase("admin").RunCommand<BsonDocument>(new BsonDocument("buildInfo", 1), cancellationToken: ct)["version"].AsString);
        var collections = ListCollections(db, t, ct);
        var tool = FindTool(method, toolPaths, "mongodump", log);
        var part = new PartRecord { Component = Component, Name = Component };
        var outDir = Path.Combine(s.Path, "chat");
        var counts = tool is not null ? Mongodump(tool, t, outDir, collections, part, ct) : DriverDump(db, t, outDir, collections, part, log, ct);
        PrivateFiles.Restrict(outDir); // mongodump's files follow its umask
        part.Files = DatabaseDumpers.Files(s, Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(s.Path, f)).Order(StringComparer.Ordinal));
        part.Details["hosts"] = string.Join(",", t.Hosts);
        part.Details["database"] = t.Database;
        part.Details["authenticationDatabase"] = t.AuthDatabase;
        if (t.User is not null) part.Details["user"] = t.User;
        part.Details["serverVersion"] = version;
        part.Details["documentCounts"] = JsonSerializer.Serialize(counts);
        part.Details["dumpedAt"] = DateTimeOffset.UtcNow.ToString("O");
        part.ItemCount = collections.Count;
        part.ChangedItems = counts.Values.Sum();
        part.StoredBytes = part.Files.Sum(f => f.Size);
        return part;
    }

    static Dictionary<string, long> DriverDump(IMongoDatabase db, ChatTarget t, string outDir, List<BsonDocument> collections, PartRecord part, IOperationLog log, CancellationToken ct)
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
                : Guard(t, () => new BsonArray(db.RunCommand<BsonDocument>(new BsonDocument("listIndexes", name), cancellationToken: ct)["cursor"]["firstBatch"].AsBsonArray));
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
                using var cursor = Guard(t, () => coll.FindSync(FilterDefinition<RawBsonDocument>.Empty, new FindOptions<RawBsonDocument> { BatchSize = 1000 }, ct));
                while (Guard(t, () => cursor.MoveNext(ct)))
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

    /// <summary>A mongodump/mongorestore --config file: the URI (without the password) and the password.</summary>
    internal static string ConfigYaml(ChatTarget t)
    {
        string Q(string s, string what) => OptionFileValue.Quoted(s, what, t.Describe());
        return $"uri: {Q(t.Uri(), "connection string (hosts, user, database)")}\n" + (t.User is null ? "" : $"password: {Q(t.Password ?? "", "password")}\n");
    }

    static Dictionary<string, long> Mongodump(ExternalTool tool, ChatTarget t, string outDir, List<BsonDocument> collections, PartRecord part, CancellationToken ct)
    {
        part.Tool = "mongodump";
        part.ToolVersion = tool.ReadVersion(ct)?.ToString() ?? "";
        using (var config = new SecretFile("mongodump.yaml", ConfigYaml(t)))
        {
            var code = tool.Run(["--config=" + config.Path, "--db", OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe()), "--out", outDir, "--gzip"], null, null, null, ct, out var stderr);
            if (code != 0) throw tool.Failed(code, stderr, t.Password);
        }
        var dir = Path.Combine(outDir, t.Database);
        var missing = collections.Select(c => c["name"].AsString).Where(n => !File.Exists(Path.Combine(dir, n + ".metadata.json.gz"))).ToList();
        if (missing.Count > 0)
            throw new ExoBackupException("ExoBackup.DumpIncomplete", ErrorKind.InvalidData,
                $"mongodump exited 0 but wrote nothing for {missing.Count} collection(s) of {t.Describe()}, e.g. {missing[0]}.", t.Describe(), "Run mongodump by hand to see why.");
        return collections.Where(c => c.GetValue("type", "collection") != "view")
            .ToDictionary(c => c["name"].AsString, c => CountDocuments(Path.Combine(dir, c["name"].AsString + ".bson.gz")));
    }

    /// <summary>Reads every document of a .bson.gz (each must parse); returns how many there are.</summary>
    public static long CountDocuments(string bsonGz) => ReadDocuments(bsonGz).LongCount();

    public static IEnumerable<RawBsonDocument> ReadDocuments(string bsonGz)
    {
        if (!File.Exists(bsonGz)) yield break;
        using var gz = new GZipStream(File.OpenRead(bsonGz), CompressionMode.Decompress);
        var lengthBytes = new byte[4];
        while (true)
        {
            var got = gz.ReadAtLeast(lengthBytes, 4, throwOnEndOfStream: false);
            if (got == 0) yield break;
            if (got < 4) throw new InvalidDataException($"{Path.GetFileName(bsonGz)} ends inside a document length");
            var length = BitConverter.ToInt32(lengthBytes);
            if (length < 5 || length > 16 * 1024 * 1024 + 16 * 1024) throw new InvalidDataException($"{Path.GetFileName(bsonGz)} holds a document of impossible length {length}");
            var buffer = new byte[length];
            lengthBytes.CopyTo(buffer, 0);
            gz.ReadExactly(buffer, 4, length - 4);
            var doc = new RawBsonDocument(buffer);
            _ = doc.ElementCount; // walks every element: a damaged document throws here
            yield return doc;
        }
    }

    /// <summary>The documents of each collection, as the part recorded them when it was taken.</summary>
    public static IReadOnlyDictionary<string, long> DocumentCounts(PartRecord part) =>
        JsonSerializer.Deserialize<Dictionary<string, long>>(part.Details["documentCounts"]) ?? [];

    /// <summary>Test-ExoSnapshot -Level Archive: every document of every collection parses, and the counts match.</summary>
    public static string VerifyArchive(SnapshotEntry s, PartRecord part)
    {
        var expected = DocumentCounts(part);
        var dir = Path.Combine(s.Path, "chat", part.Details["database"]);
        foreach (var (coll, count) in expected)
        {
            long n;
            try { n = CountDocuments(Path.Combine(dir, coll + ".bson.gz")); }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or BsonSerializationException)
            { throw new InvalidDataException($"{coll}.bson.gz: {e.Message}"); }
            if (n != count) throw new InvalidDataException($"{coll}.bson.gz holds {n} document(s); the manifest says {count}");
        }
        return $"{expected.Count} collection(s), {expected.Values.Sum():N0} document(s) parsed, as recorded";
    }

    /// <summary>What a restore names its staging collections: &lt;prefix&gt;&lt;time&gt;.&lt;collection&gt;, in the target database.</summary>
    const string StagedPrefix = "exobackup_staged_";

    /// <summary>
    /// Restores the dump into <paramref name="t"/>'s database, staged: every collection is first restored
    /// under a staging name beside the live ones (mongorestore where installed, else the driver), checked
    /// to be there, then renamed into place (renameCollection with dropTarget, cheap within a database);
    /// collections the snapshot lacks are dropped and views created last. A failure or a kill before the
    /// renames leaves chat as it was, its staging collections dropped then or by the next restore.
    /// </summary>
    public static (long Collections, long Documents, string? Kept) Restore(SnapshotRepository repo, SnapshotEntry s, PartRecord part, ChatTarget t, ChatMethod method,
        IReadOnlyList<string> toolPaths, bool discardReplaced, string stamp, IOperationLog log, CancellationToken ct)
    {
        var client = Client(t);
        var source = part.Details["database"];
        var dir = Path.Combine(s.Path, "chat", source);
        string? kept = null;
        var existing = Guard(t, () => client.ListDatabaseNames(ct).ToList()).Contains(t.Database);
        var db = client.GetDatabase(t.Database);
        if (existing) DropStaged(db, t, StagedPrefix, log, ct); // what a killed restore left
        if (existing && !discardReplaced)
        {
            // MongoDB cannot rename a database: the one replaced is dumped into the repository first.
            var keepDir = Path.Combine(repo.Root, "pre-restore-" + stamp);
            PrivateFiles.CreateDirectory(keepDir);
            var colls = ListCollections(db, t, ct);
            DriverDump(db, t, Path.Combine(keepDir, "chat"), colls, new PartRecord(), log, ct);
            kept = Path.Combine(keepDir, "chat", t.Database);
            log.Verbose($"Kept the database it replaces as the dump {kept}.");
        }
        var tool = FindTool(method, toolPaths, "mongorestore", log);
        var expected = DocumentCounts(part);
        var staged = $"{StagedPrefix}{stamp}.";
        log.Verbose($"Restoring {expected.Count} collection(s) of {t.Describe()} into staging collections {staged}*, beside the live ones.");
        try
        {
            if (tool is not null)
            {
                using var config = new SecretFile("mongorestore.yaml", ConfigYaml(t with { Database = "" }));
                var target = OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe());
                var code = tool.Run(["--config=" + config.Path, "--gzip", "--nsInclude", source + ".*", "--nsFrom", source + ".$coll$", "--nsTo", $"{target}.{staged}$coll$", Path.Combine(s.Path, "chat")],
                    null, null, null, ct, out var stderr);
                if (code != 0) throw tool.Failed(code, stderr, t.Password);
            }
            else DriverRestore(db, dir, t, staged, log, ct);
            // Every collection there, with every document (a mongorestore can exit 0 having done neither).
            var present = ListCollections(db, t, ct).Select(c => c["name"].AsString).ToHashSet(StringComparer.Ordinal);
            var missing = expected.Where(c => !present.Contains(staged + c.Key)
                || Guard(t, () => db.GetCollection<BsonDocument>(staged + c.Key).EstimatedDocumentCount(cancellationToken: ct)) != c.Value).Select(c => c.Key).ToList();
            if (missing.Count > 0)
                throw new ExoBackupException("ExoBackup.ChatRestoreIncomplete", ErrorKind.InvalidData,
                    $"{tool?.Name ?? "The driver"} restored {expected.Count - missing.Count} of {expected.Count} collection(s) of {t.Describe()} whole, e.g. not {missing[0]}; chat was left as it was.", t.Describe(),
                    "Run mongorestore by hand on the snapshot's chat folder to see why, or restore with -ChatMethod Driver.");
        }
        catch
        {
            try { DropStaged(db, t, staged, log, CancellationToken.None); } catch (ExoBackupException) { }
            throw;
        }
        // The commit: a rename per collection, within the database.
        var admin = client.GetDatabase("admin");
        foreach (var name in expected.Keys.Order(StringComparer.Ordinal))
            Guard(t, () => admin.RunCommand<BsonDocument>(new BsonDocument
            {
                { "renameCollection", $"{t.Database}.{staged}{name}" }, { "to", $"{t.Database}.{name}" }, { "dropTarget", true },
            }, cancellationToken: CancellationToken.None));
        var views = ViewDefinitions(dir);
        foreach (var c in ListCollections(db, t, CancellationToken.None).Select(c => c["name"].AsString).Where(c => !c.StartsWith("system.", StringComparison.Ordinal)))
            if (!expected.ContainsKey(c) || views.ContainsKey(c))
                Guard(t, () => { db.DropCollection(c, CancellationToken.None); return 0; }); // not in the snapshot, or a view to make anew
        foreach (var (name, create) in views) Guard(t, () => db.RunCommand<BsonDocument>(create, cancellationToken: CancellationToken.None));
        return (expected.Count, expected.Values.Sum(), kept);
    }

    /// <summary>Drops the staging collections whose names start with <paramref name="prefix"/>.</summary>
    static void DropStaged(IMongoDatabase db, ChatTarget t, string prefix, IOperationLog log, CancellationToken ct)
    {
        foreach (var name in ListCollections(db, t, ct).Select(c => c["name"].AsString).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            Guard(t, () => { db.DropCollection(name, ct); return 0; });
            log.Verbose($"Dropped the staging collection {name} of {t.Describe()}.");
        }
    }

    static List<BsonDocument> Metadata(string dir) =>
        Directory.EnumerateFiles(dir, "*.metadata.json.gz").Order(StringComparer.Ordinal).Select(f =>
        {
            using var gz = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
            using var r = new StreamReader(gz);
            return BsonSerializer.Deserialize<BsonDocument>(r.ReadToEnd());
        }).ToList();

    /// <summary>The create command of every view of the dump (a view is its definition only, made last, once its source is in place).</summary>
    static Dictionary<string, BsonDocument> ViewDefinitions(string dir) =>
        Metadata(dir).Where(m => m.GetValue("type", "collection") == "view").ToDictionary(m => m["collectionName"].AsString, m =>
        {
            var create = new BsonDocument("create", m["collectionName"].AsString);
            foreach (var o in m.GetValue("options", new BsonDocument()).AsBsonDocument) create.Add(o);
            return create;
        });

    static void DriverRestore(IMongoDatabase db, string dir, ChatTarget t, string namePrefix, IOperationLog log, CancellationToken ct)
    {
        // Collections only: the views are made after the renames (ViewDefinitions).
        var parsed = Metadata(dir).Where(m => m.GetValue("type", "collection") != "view").ToList();
        var i = 0;
        foreach (var meta in parsed)
        {
            ct.ThrowIfCancellationRequested();
            var original = meta["collectionName"].AsString;
            var name = namePrefix + original;
            log.Progress(new ProgressUpdate(71, $"Restoring {t.Describe()}", $"{original} ({++i} of {parsed.Count})", 100 * i / Math.Max(1, parsed.Count)));
            var create = new BsonDocument("create", name);
            foreach (var o in meta.GetValue("options", new BsonDocument()).AsBsonDocument) create.Add(o);
            Guard(t, () => db.RunCommand<BsonDocument>(create, cancellationToken: ct));
            var coll = db.GetCollection<RawBsonDocument>(name);
            var batch = new List<RawBsonDocument>();
            long batchBytes = 0;
            foreach (var doc in ReadDocuments(Path.Combine(dir, original + ".bson.gz")))
            {
                batch.Add(doc);
                batchBytes += doc.Slice.Length;
                if (batch.Count >= 1000 || batchBytes > 8 * 1024 * 1024) { Flush(); }
            }
            Flush();
            var indexes = meta["indexes"].AsBsonArray.Select(x => x.AsBsonDocument).Where(x => x["name"] != "_id_").ToList();
            if (indexes.Count > 0)
                Guard(t, () => db.RunCommand<BsonDocument>(new BsonDocument { { "createIndexes", name }, { "indexes", new BsonArray(indexes) } }, cancellationToken: ct));

            void Flush()
            {
                if (batch.Count == 0) return;
                Guard(t, () => { coll.InsertMany(batch, new InsertManyOptions { IsOrdered = true }, ct); return 0; });
                foreach (var d in batch) d.Dispose();
                batch.Clear();
                batchBytes = 0;
            }
        }
        log.Progress(new ProgressUpdate(71, $"Restoring {t.Describe()}", "done", Completed: true));
    }
}
