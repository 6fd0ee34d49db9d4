namespace ExoBackup.Engine.Repository;

/// <summary>
/// Runs one backup part and records it in the open snapshot with its times and whether eXo was
/// running at its start and end. A part that fails records nothing: it never looks taken.
/// </summary>
public static class PartRunner
{
    public static PartRecord Run(SnapshotRepository repo, SnapshotEntry snapshot, Func<bool> platformRunning, Func<PartRecord> work, IOperationLog log)
    {
        var started = DateTimeOffset.UtcNow;
        var runningAtStart = platformRunning();
        if (runningAtStart)
            log.Warning("eXo is running: this part will not be consistent with the others (Complete-ExoSnapshot will need -AllowOnline).");
        var part = work();
        part.Started = started;
        part.Ended = DateTimeOffset.UtcNow;
        part.PlatformRunningAtStart = runningAtStart;
        part.PlatformRunningAtEnd = platformRunning();
        if (part.ChangedWhileRead.Count > 0)
            log.Warning($"{part.ChangedWhileRead.Count} file(s) changed while they were read, e.g. {part.ChangedWhileRead[0]}: something still writes to the data dir.");
        repo.RecordPart(snapshot, part);
        return part;
    }
}
