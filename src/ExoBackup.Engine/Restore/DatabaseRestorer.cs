using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Restore;

/// <summary>
/// Restores the database parts. Staging restores each dump into a staging database beside its target
/// (&lt;db&gt;_exobackup_staged_&lt;time&gt;), so a failure, Ctrl+C or a kill during the long part leaves every
/// database in place untouched; Commit swaps them in (renames), keeping each replaced database as
/// &lt;db&gt;_pre_restore_&lt;time&gt; unless -DiscardReplaced. SQL Server restores in place at Commit (its database
/// files would need new names to stage). Databases commit before the file trees.
/// </summary>
public sealed class DatabaseRestorer : IComponentRestorer
{
    public string Component => DatabaseBackupService.Component;

    public string Describe(SnapshotEntry snapshot, RestoreRequest r) =>
        string.Join("; ", Parts(snapshot).Select(p =>
        {
            var t = DatabaseBackupService.TargetOf(p, r.Platform, r.Server, r.Database, r.User, r.Password);
            return $"Replace {t.Describe()} with the dump of {p.Database.DatabaseName} from {snapshot.Id}" +
                   (r.DiscardReplaced ? ", dropping the database it replaces" : ", keeping the database it replaces");
        }));

    static List<PartRecord> Parts(SnapshotEntry s) =>
        s.Manifest.Parts.Where(DatabaseBackupService.IsRestorable).ToList();

    public IStagedRestore Stage(SnapshotRepository repo, SnapshotEntry snapshot, RestoreRequest r, IOperationLog log, CancellationToken ct)
    {
        var parts = Parts(snapshot);
        if (r.Database is not null && parts.Count > 1)
            throw Errors.AmbiguousDatabase(snapshot.Id, parts.Count);
        var plan = parts.Select(p => (Part: p, Target: DatabaseBackupService.TargetOf(p, r.Platform, r.Server, r.Database, r.User, r.Password, log))).ToList();
        foreach (var (_, t) in plan) DatabaseEngines.For(t.Engine).Probe(t with { Database = t.Engine == DatabaseEngine.PostgreSql ? "postgres" : t.Engine == DatabaseEngine.SqlServer ? "master" : "" }, ct);
        var staged = new Staged(snapshot, r, log, ct);
        try
        {
            // The long part, while every database in place stays untouched: each dump is restored
            // into a staging database of its own (engines that can swap one in; SQL Server restores at commit).
            foreach (var (part, t) in plan)
            {
                var adapter = DatabaseEngines.For(t.Engine);
                if (!adapter.CanSwap) { staged.Items.Add((part, t, null, null)); continue; }
                // Unique beyond the second: a restore killed during its own CREATE DATABASE, in the same
                // second, may still have the server finish creating that name after this one looked.
                var unique = r.Stamp + Guid.NewGuid().ToString("N")[..4];
                var staging = t with { Database = DatabaseEngines.StagingName(t.Database, unique, adapter.MaxNameLength) };
                // A restore killed outright left its staging database; none of its sessions remain.
                var leftover = adapter.DropUnused(t, staging.Database[..^unique.Length], ct);
                if (leftover.Count > 0) log.Verbose($"Dropped {leftover.Count} staging database(s) that interrupted restores left: {string.Join(", ", leftover)}.");
                staged.Items.Add((part, t, staging.Database, null));
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var done = adapter.Restore(staging, snapshot, part, Options(r, discard: true), log, ct);
                staged.Items[^1] = (part, t, staging.Database, (done, watch.Elapsed));
            }
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    static DatabaseRestoreOptions Options(RestoreRequest r, bool discard) => new()
    {
        ToolPaths = r.ToolPaths, Jobs = r.Jobs, DiscardReplaced = discard, Stamp = r.Stamp, DataFilePath = r.DataFilePath,
    };

    sealed class Staged(SnapshotEntry snapshot, RestoreRequest r, IOperationLog log, CancellationToken ct) : IStagedRestore
    {
        internal readonly List<(PartRecord Part, DatabaseTarget Target, string? Staging, (DatabaseRestored Done, TimeSpan Took)? Restored)> Items = [];
        bool _committed;

        public IReadOnlyList<ComponentRestoreResult> Commit(IOperationLog _)
        {
            var results = new List<ComponentRestoreResult>();
            foreach (var (part, t, staging, restored) in Items)
            {
                var adapter = DatabaseEngines.For(t.Engine);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                DatabaseRestored done;
                if (staging is null) done = adapter.Restore(t, snapshot, part, Options(r, r.DiscardReplaced), log, ct);
                else
                {
                    // From here on, no cancellation: a swap is two renames and must not stop between them.
                    var kept = adapter.Swap(t, staging, r.DiscardReplaced ? null : DatabaseEngines.KeptName(t.Database, r.Stamp, adapter.MaxNameLength), log, CancellationToken.None);
                    done = restored!.Value.Done with { Database = t.Database, PreviousKeptAs = kept };
                }
                var expected = DatabaseBackupService.RowCounts(part);
                if (done.Rows != expected.Values.Sum())
                    log.Warning($"{t.Describe()} holds {done.Rows:N0} rows after the restore; the dump recorded {expected.Values.Sum():N0}.");
                results.Add(new ComponentRestoreResult(DatabaseBackupService.Component, t.Describe(), done.PreviousKeptAs, done.Tables, "tables", 0, done.Rows, watch.Elapsed + (restored?.Took ?? TimeSpan.Zero)));
            }
            _committed = true;
            return results;
        }

        /// <summary>Without a commit (a failure, Ctrl+C): the staging databases go; nothing in place was touched.</summary>
        public void Dispose()
        {
            if (_committed) return;
            foreach (var (_, t, staging, _) in Items)
                if (staging is not null)
                    try { DatabaseEngines.For(t.Engine).Drop(t with { Database = staging }, CancellationToken.None); }
                    catch (Exception e) when (e is ExoBackupException or System.Data.Common.DbException)
                    {
                        log.Warning($"Could not drop the staging database {staging} on {t.Host}:{t.Port}: {e.Message}. Drop it when no restore runs.");
                    }
        }
    }
}
