using ExoBackup.Engine.IO;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Tools;
using MongoDB.Bson;
using MongoDB.Driver;

namespace ExoBackup.Engine.Chat;

/// <summary>Restore-ExoSnapshot's chat engine (ChatRestorer plans it): a dump restored, staged, with mongorestore where installed or the driver.</summary>
public static class ChatRestoreService
{
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
        var client = ChatClient.Create(t);
        var source = ChatArchive.DatabaseOf(part);
        using var chat = s.LocalCopy("chat");
        using var sourceDir = s.LocalCopy("chat/" + source); // refused if the manifest's name leaves the snapshot
        var dir = sourceDir.Path;
        string? kept = null;
        var existing = ChatClient.Guard(t, () => client.ListDatabaseNames(ct).ToList()).Contains(t.Database);
        var db = client.GetDatabase(t.Database);
        if (existing) DropStaged(db, t, StagedPrefix, log, ct); // what a killed restore left
        if (existing && !discardReplaced)
        {
            // MongoDB cannot rename a database: the one replaced is dumped into the repository first.
            var keepDir = Path.Combine(repo.Root, "pre-restore-" + stamp);
            PrivateFiles.CreateDirectory(keepDir);
            var colls = ChatClient.ListCollections(db, t, ct);
            ChatBackupService.DriverDump(db, t, Path.Combine(keepDir, "chat"), colls, new PartRecord(), log, ct);
            kept = Path.Combine(keepDir, "chat", t.Database);
            log.Verbose($"Kept the database it replaces as the dump {kept}.");
        }
        var tool = MongoTools.Find(method, toolPaths, "mongorestore", log);
        var expected = ChatArchive.DocumentCounts(part);
        var staged = $"{StagedPrefix}{stamp}.";
        log.Verbose($"Restoring {expected.Count} collection(s) of {t.Describe()} into staging collections {staged}*, beside the live ones.");
        try
        {
            if (tool is not null)
            {
                using var config = new SecretFile("mongorestore.yaml", MongoTools.ConfigYaml(t with { Database = "" }));
                var target = OptionFileValue.CheckedArgument(t.Database, "database name", t.Describe());
                var code = tool.Run(["--config=" + config.Path, "--gzip", "--nsInclude", source + ".*", "--nsFrom", source + ".$coll$", "--nsTo", $"{target}.{staged}$coll$", chat.Path],
                    null, null, null, ct, out var stderr);
                if (code != 0) throw tool.Failed(code, stderr, t.Password);
            }
            else DriverRestore(db, dir, t, staged, log, ct);
            // Every collection there, with every document (a mongorestore can exit 0 having done neither).
            var present = ChatClient.ListCollections(db, t, ct).Select(c => c["name"].AsString).ToHashSet(StringComparer.Ordinal);
            var missing = expected.Where(c => !present.Contains(staged + c.Key)
                || ChatClient.Guard(t, () => db.GetCollection<BsonDocument>(staged + c.Key).EstimatedDocumentCount(cancellationToken: ct)) != c.Value).Select(c => c.Key).ToList();
            if (missing.Count > 0)
                throw Errors.ChatRestoreIncomplete(
                    $"{tool?.Name ?? "The driver"} restored {expected.Count - missing.Count} of {expected.Count} collection(s) of {t.Describe()} whole, e.g. not {missing[0]}; chat was left as it was.", t.Describe());
        }
        catch
        {
            try { DropStaged(db, t, staged, log, CancellationToken.None); } catch (ExoBackupException) { }
            throw;
        }
        // The commit: a rename per collection, within the database.
        var admin = client.GetDatabase("admin");
        foreach (var name in expected.Keys.Order(StringComparer.Ordinal))
            ChatClient.Guard(t, () => admin.RunCommand<BsonDocument>(new BsonDocument
            {
                { "renameCollection", $"{t.Database}.{staged}{name}" }, { "to", $"{t.Database}.{name}" }, { "dropTarget", true },
            }, cancellationToken: CancellationToken.None));
        var views = ViewDefinitions(dir);
        foreach (var c in ChatClient.ListCollections(db, t, CancellationToken.None).Select(c => c["name"].AsString).Where(c => !c.StartsWith("system.", StringComparison.Ordinal)))
            if (!expected.ContainsKey(c) || views.ContainsKey(c))
                ChatClient.Guard(t, () => { db.DropCollection(c, CancellationToken.None); return 0; }); // not in the snapshot, or a view to make anew
        foreach (var (name, create) in views) ChatClient.Guard(t, () => db.RunCommand<BsonDocument>(create, cancellationToken: CancellationToken.None));
        return (expected.Count, expected.Values.Sum(), kept);
    }

    /// <summary>Drops the staging collections whose names start with <paramref name="prefix"/>.</summary>
    static void DropStaged(IMongoDatabase db, ChatTarget t, string prefix, IOperationLog log, CancellationToken ct)
    {
        foreach (var name in ChatClient.ListCollections(db, t, ct).Select(c => c["name"].AsString).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            ChatClient.Guard(t, () => { db.DropCollection(name, ct); return 0; });
            log.Verbose($"Dropped the staging collection {name} of {t.Describe()}.");
        }
    }

    /// <summary>The create command of every view of the dump (a view is its definition only, made last, once its source is in place).</summary>
    static Dictionary<string, BsonDocument> ViewDefinitions(string dir) =>
        ChatArchive.Metadata(dir).Where(m => m.GetValue("type", "collection") == "view").ToDictionary(m => m["collectionName"].AsString, m =>
        {
            var create = new BsonDocument("create", m["collectionName"].AsString);
            foreach (var o in m.GetValue("options", new BsonDocument()).AsBsonDocument) create.Add(o);
            return create;
        });

    static void DriverRestore(IMongoDatabase db, string dir, ChatTarget t, string namePrefix, IOperationLog log, CancellationToken ct)
    {
        // Collections only: the views are made after the renames (ViewDefinitions).
        var parsed = ChatArchive.Metadata(dir).Where(m => m.GetValue("type", "collection") != "view").ToList();
        var i = 0;
        foreach (var meta in parsed)
        {
            ct.ThrowIfCancellationRequested();
            var original = meta["collectionName"].AsString;
            var name = namePrefix + original;
            log.Progress(new ProgressUpdate(71, $"Restoring {t.Describe()}", $"{original} ({++i} of {parsed.Count})", 100 * i / Math.Max(1, parsed.Count)));
            var create = new BsonDocument("create", name);
            foreach (var o in meta.GetValue("options", new BsonDocument()).AsBsonDocument) create.Add(o);
            ChatClient.Guard(t, () => db.RunCommand<BsonDocument>(create, cancellationToken: ct));
            var coll = db.GetCollection<RawBsonDocument>(name);
            var batch = new List<RawBsonDocument>();
            long batchBytes = 0;
            foreach (var doc in ChatArchive.ReadDocuments(Path.Combine(dir, original + ".bson.gz")))
            {
                batch.Add(doc);
                batchBytes += doc.Slice.Length;
                if (batch.Count >= 1000 || batchBytes > 8 * 1024 * 1024) { Flush(); }
            }
            Flush();
            var indexes = meta["indexes"].AsBsonArray.Select(x => x.AsBsonDocument).Where(x => x["name"] != "_id_").ToList();
            if (indexes.Count > 0)
                ChatClient.Guard(t, () => db.RunCommand<BsonDocument>(new BsonDocument { { "createIndexes", name }, { "indexes", new BsonArray(indexes) } }, cancellationToken: ct));

            void Flush()
            {
                if (batch.Count == 0) return;
                ChatClient.Guard(t, () => { coll.InsertMany(batch, new InsertManyOptions { IsOrdered = true }, ct); return 0; });
                foreach (var d in batch) d.Dispose();
                batch.Clear();
                batchBytes = 0;
            }
        }
        log.Progress(new ProgressUpdate(71, $"Restoring {t.Describe()}", "done", Completed: true));
    }
}
