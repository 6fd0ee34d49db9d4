using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Restore;

/// <summary>
/// Test-ExoSnapshot's engine: checksums and archives through SnapshotVerifier; database dumps read
/// by their engine's tool (Archive); and at level Restore every part restored into a scratch place
/// (a temporary folder, a scratch database on the same server) and compared with the manifest.
/// </summary>
/// <summary>Where a trial restore (-Level Restore) writes: a folder for the trees, a server for the scratch databases.</summary>
public sealed record ScratchOptions
{
    public string? Folder { get; init; }
    public string? DatabaseServer { get; init; }
}

public static class SnapshotTest
{
    /// <summary>One verdict per part of each snapshot in the chain: its failures, each naming its file, or what passed (matched checksums counted).</summary>
    public static List<PartVerdict> Summarize(IEnumerable<VerifyFinding> findings) =>
        findings.GroupBy(f => (f.Snapshot, f.Part)).Select(g =>
        {
            var bad = g.Where(f => !f.Passed).ToList();
            var matched = g.Count(f => f.Kind == FindingKind.ChecksumMatched);
            var message = bad.Count > 0 ? string.Join("; ", bad.Select(f => f.Message))
                : string.Join("; ", g.Where(f => f.Kind != FindingKind.ChecksumMatched).Select(f => f.Message).Prepend(matched > 0 ? $"{matched} file(s) checksum ok" : null).OfType<string>());
            var files = string.Join(", ", (bad.Count > 0 ? bad : g.ToList()).Select(f => f.File).Where(f => f.Length > 0).Distinct());
            return new PartVerdict(g.Key.Snapshot, g.Key.Part, bad.Count == 0, message, files);
        }).ToList();

    /// <summary>The error Test-ExoSnapshot writes when anything failed, or null.</summary>
    public static ExoBackupException? Failure(string id, IReadOnlyList<VerifyFinding> findings)
    {
        var failed = findings.Where(f => !f.Passed).ToList();
        return failed.Count == 0 ? null : Errors.SnapshotVerificationFailed(id, failed.Select(f => f.Message).ToList());
    }

    public static List<VerifyFinding> Run(SnapshotRepository repo, string id, VerifyLevel level, PlatformInfo? platform,
        string? user, string? password, IReadOnlyList<string> toolPaths, IOperationLog log, CancellationToken ct, ScratchOptions? scratch = null)
    {
        var findings = SnapshotVerifier.Verify(repo, id, level == VerifyLevel.Restore ? VerifyLevel.Archive : level, log, ct);
        if (level == VerifyLevel.Checksum || findings.Any(f => !f.Passed)) return findings;
        var snapshot = repo.Get(id, includeIncomplete: false);
        var dbParts = snapshot.Manifest.Parts.Where(p => p.Component == DatabaseBackupService.Component && p.Database.Dump is not null).ToList();
        foreach (var part in dbParts)
        {
            var engine = part.Database.Engine;
            if (engine == DatabaseEngine.SqlServer && level == VerifyLevel.Archive) continue; // only the server reads a .bak
            try { findings.Add(new VerifyFinding(id, part.Key, part.Database.Dump!, true, DatabaseEngines.For(engine ?? throw part.Missing("engine")).VerifyArchive(snapshot, part, toolPaths, ct))); }
            catch (Exception e) when (e is InvalidDataException or ExoBackupException or IOException)
            {
                findings.Add(new VerifyFinding(id, part.Key, part.Database.Dump!, false, e.Message));
            }
        }
        var chatPart = snapshot.Manifest.Parts.FirstOrDefault(p => p.Component == Chat.ChatBackupService.Component);
        if (chatPart is not null)
        {
            try { findings.Add(new VerifyFinding(id, chatPart.Key, "chat", true, Chat.ChatArchive.VerifyArchive(snapshot, chatPart))); }
            catch (Exception e) when (e is InvalidDataException or IOException) { findings.Add(new VerifyFinding(id, chatPart.Key, "chat", false, e.Message)); }
        }
        if (level != VerifyLevel.Restore) return findings;
        scratch ??= new ScratchOptions();
        findings.AddRange(ScratchTrees(repo, snapshot, scratch.Folder ?? Path.GetTempPath(), log, ct));
        foreach (var part in dbParts) findings.Add(ScratchDatabase(snapshot, part, platform, scratch.DatabaseServer, user, password, toolPaths, log, ct));
        if (chatPart is not null && platform is not null) findings.Add(ScratchChat(repo, snapshot, chatPart, platform, user, password, toolPaths, log, ct));
        return findings;
    }

    /// <summary>The chat dump restored into a scratch database on its own server, counted, and dropped.</summary>
    static VerifyFinding ScratchChat(SnapshotRepository repo, SnapshotEntry snapshot, PartRecord part, PlatformInfo platform, string? user, string? password,
        IReadOnlyList<string> toolPaths, IOperationLog log, CancellationToken ct)
    {
        var scratch = "exobackup_test_" + Guid.NewGuid().ToString("N")[..12];
        var t = ChatRestorer.TargetOf(part, new RestoreRequest { Platform = platform, User = user, Password = password, ChatDatabase = scratch });
        try
        {
            var (collections, documents, _) = Chat.ChatRestoreService.Restore(repo, snapshot, part, t, Chat.ChatMethod.Driver, toolPaths, true, "test", log, ct);
            var db = Chat.ChatClient.Create(t).GetDatabase(scratch);
            var expected = Chat.ChatArchive.DocumentCounts(part);
            // The count command (not an aggregation): the fewest server features.
            var differ = expected.Where(e => db.RunCommand<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("count", e.Key), cancellationToken: ct)["n"].ToInt64() != e.Value).Select(e => e.Key).ToList();
            return differ.Count == 0
                ? new VerifyFinding(snapshot.Id, part.Key, "chat", true, $"restored into {scratch}: {collections} collection(s), {documents:N0} document(s), as recorded")
                : new VerifyFinding(snapshot.Id, part.Key, "chat", false, $"restored into {scratch}, but {differ[0]} holds another number of documents");
        }
        catch (Exception e) when (e is ExoBackupException or MongoDB.Driver.MongoException) { return new VerifyFinding(snapshot.Id, part.Key, "chat", false, e.Message); }
        finally
        {
            try { Chat.ChatClient.Create(t).DropDatabase(scratch, ct); } catch (Exception e) when (e is MongoDB.Driver.MongoException or TimeoutException) { log.Warning($"Could not drop the scratch database {scratch}: {e.Message}"); }
        }
    }

    /// <summary>Each file-tree part restored into a scratch folder, checking every file's hash as it is written.</summary>
    static IEnumerable<VerifyFinding> ScratchTrees(SnapshotRepository repo, SnapshotEntry snapshot, string folder, IOperationLog log, CancellationToken ct)
    {
        RequireSpace(snapshot, folder);
        var scratch = Path.Combine(folder, $"exobackup-test-{snapshot.Id}-{Guid.NewGuid():N}");
        var results = new List<VerifyFinding>();
        try
        {
            IO.PrivateFiles.CreateDirectory(scratch); // 0700: the copy holds the codec key and the bundle's passwords
            foreach (var component in snapshot.Manifest.Parts.Where(p => p.IsTree && p.Tree.Index is not null).Select(p => p.Component).Distinct())
            {
                try
                {
                    var roots = TreeRestore.Run(repo, snapshot, component, new TreeRestoreOptions
                    {
                        TargetFor = prefix => Path.Combine(scratch, component, prefix.Length == 0 ? "root" : prefix.Replace('/', '_')),
                        ReportMetadataChanges = false,
                    }, log, ct);
                    results.Add(new VerifyFinding(snapshot.Id, component, "", true, $"restored {roots.Sum(r => r.Files):N0} file(s), {roots.Sum(r => r.Bytes):N0} bytes, every checksum matched"));
                }
                catch (ExoBackupException e) { results.Add(new VerifyFinding(snapshot.Id, component, "", false, e.Message)); }
            }
        }
        finally
        {
            IO.TreeDeleter.Delete(scratch);
        }
        return results;
    }

    /// <summary>A dump restored into a scratch database on its own server; tables and rows compared with the manifest; dropped after.</summary>
    /// <summary>
    /// The trees restored in full need the room the index says (a /tmp on tmpfs is often small): checked
    /// before anything is written, rather than found out as a full disk halfway.
    /// </summary>
    static void RequireSpace(SnapshotEntry snapshot, string folder)
    {
        long needed = 0;
        foreach (var part in snapshot.Manifest.Parts.Where(p => p.IsTree && p.Tree.Index is not null))
            needed += Archive.FileIndex.Read(snapshot.OpenRead(part.Tree.Index!), part.Tree.Index!).Entries.Values.Where(e => e.Kind == 'f').Sum(e => e.Size);
        IO.PrivateFiles.CreateDirectory(folder);
        var free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
        if (free < needed + needed / 20)
            throw Errors.ScratchTooSmall(snapshot.Id, folder, needed, free);
    }

    static VerifyFinding ScratchDatabase(SnapshotEntry snapshot, PartRecord part, PlatformInfo? platform, string? server, string? user, string? password,
        IReadOnlyList<string> toolPaths, IOperationLog log, CancellationToken ct)
    {
        var scratchName = "exobackup_test_" + Guid.NewGuid().ToString("N")[..12];
        DatabaseTarget target;
        // The scratch database goes on -ScratchServer when given, never replacing anything there (a new name).
        try { target = DatabaseBackupService.TargetOf(part, platform, server, scratchName, user, password, log); }
        catch (ExoBackupException e) { return new VerifyFinding(snapshot.Id, part.Key, part.Database.Dump ?? "", false, e.Message); }
        var adapter = DatabaseEngines.For(target.Engine);
        try
        {
            var done = adapter.Restore(target, snapshot, part, new DatabaseRestoreOptions { ToolPaths = toolPaths, DiscardReplaced = true }, log, ct);
            var expected = DatabaseBackupService.RowCounts(part);
            var restored = done.Counted ?? adapter.CountRows(target, ct); // the restore counted them already, except on SQL Server
            var diff = expected.Where(e => restored.FirstOrDefault(r => r.Table == e.Key)?.Rows != e.Value).Select(e => e.Key).ToList();
            return diff.Count == 0
                ? new VerifyFinding(snapshot.Id, part.Key, part.Database.Dump!, true, $"restored into {scratchName}: {done.Tables} table(s), {done.Rows:N0} rows, as recorded")
                : new VerifyFinding(snapshot.Id, part.Key, part.Database.Dump!, false, $"restored into {scratchName}, but {diff.Count} table(s) differ from the manifest, e.g. {diff[0]}");
        }
        catch (ExoBackupException e)
        {
            return new VerifyFinding(snapshot.Id, part.Key, part.Database.Dump!, false, e.Message);
        }
        finally
        {
            try { adapter.Drop(target, ct); } catch (Exception e) when (e is ExoBackupException or System.Data.Common.DbException) { log.Warning($"Could not drop the scratch database {scratchName}: {e.Message}"); }
        }
    }
}
