namespace ExoBackup.Engine.Repository;

/// <summary>
/// Runs one backup part and records it in the open snapshot with its times and whether eXo was
/// running at its start and end. A part that fails records nothing: it never looks taken.
/// </summary>
public static class PartRunner
{
    /// <summary>The start of the warning that a part is taken while eXo runs; a runbook that warned once for all its parts drops these.</summary>
    public const string RunningWarning = "eXo is running: ";

    /// <param name="what">The part, as the warning names it ("the data dir", a database).</param>
    public static PartRecord Run(SnapshotRepository repo, SnapshotEntry snapshot, Func<bool> platformRunning, Func<PartRecord> work, IOperationLog log, string? what = null)
    {
        var started = DateTimeOffset.UtcNow;
        var runningAtStart = platformRunning();
        if (runningAtStart)
            log.Warning($"{RunningWarning}{what ?? "this part"} will not be consistent with the other parts (Complete-ExoSnapshot will need -AllowOnline).");
        var before = Directory.EnumerateFiles(snapshot.Path, "*", SearchOption.AllDirectories).ToHashSet();
        PartRecord part;
        try
        {
            part = work();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ExoBackupException)
        {
            // What the failed part wrote is removed: a retry starts clean and a full disk gets its space back.
            foreach (var f in Directory.EnumerateFiles(snapshot.Path, "*", SearchOption.AllDirectories).Where(f => !before.Contains(f)))
                try { File.Delete(f); } catch (IOException) { }
            if (e is IOException io)
                throw DiskErrors.PartFailed(io, snapshot.Id, snapshot.Path);
            if (e is OperationCanceledException oce && oce.CancellationToken.IsCancellationRequested)
                throw new OperationCanceledException(
                    $"the part was not taken, and what it had written is removed; snapshot {snapshot.Id} stays open (take the part again, or abandon it with Remove-ExoSnapshot).", e, oce.CancellationToken);
            throw;
        }
        part.Started = started;
        part.Ended = DateTimeOffset.UtcNow;
        part.PlatformRunningAtStart = runningAtStart;
        part.PlatformRunningAtEnd = platformRunning();
        if (part.ChangedWhileRead.Count > 0)
            log.Warning($"{part.ChangedWhileRead.Count} file(s) changed while they were read, e.g. {part.ChangedWhileRead[0]}: something still writes to the data dir.");
        if (part.Skipped.Count > 0)
            log.Warning($"{part.Key}: {part.Skipped.Count} item(s) are not in the snapshot, e.g. {part.Skipped[0]}. The part's Skipped lists them all.");
        repo.RecordPart(snapshot, part);
        return part;
    }
}
