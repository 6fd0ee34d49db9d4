namespace ExoBackup.Engine;

/// <summary>I/O failures as errors of their own: a full disk (ENOSPC, the Windows disk-full codes) apart from the rest.</summary>
public static class DiskErrors
{
    public static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027)
        || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("not enough space", StringComparison.OrdinalIgnoreCase);

    /// <summary>ExoBackup.DiskFull for a full disk, else ExoBackup.IOError, in a command other than a part's backup (a restore, say).</summary>
    public static ExoBackupException Failed(IOException e) => IsDiskFull(e) ? Errors.DiskFull(e) : Errors.IOError(e);

    /// <summary>The same while a part was written into a snapshot of the repository.</summary>
    public static ExoBackupException PartFailed(IOException e, string snapshotId, string snapshotPath) =>
        IsDiskFull(e) ? Errors.DiskFullPart(snapshotId, snapshotPath, e) : Errors.IOErrorPart(snapshotId, snapshotPath, e);
}
