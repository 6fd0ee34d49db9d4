namespace ExoBackup.Engine;

/// <summary>I/O failures as errors of their own: a full disk (ENOSPC, the Windows disk-full codes) apart from the rest.</summary>
public static class DiskErrors
{
    public static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027)
        || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("not enough space", StringComparison.OrdinalIgnoreCase);

    /// <summary>ExoBackup.DiskFull for a full disk, else ExoBackup.IOError, each with what to do about it.</summary>
    public static ExoBackupException Failed(IOException e, string message, string? target, string whenFull, string otherwise)
    {
        var full = IsDiskFull(e);
        return new ExoBackupException(full ? "ExoBackup.DiskFull" : "ExoBackup.IOError", ErrorKind.WriteError, message, target, full ? whenFull : otherwise, e);
    }
}
