namespace ExoBackup.Engine.IO;

/// <summary>
/// A file written whole or not at all: a temporary file beside it (created with its final mode), fsynced,
/// renamed over the name, then the folder fsynced. A kill or a power cut leaves the old file or the new
/// one, never a torn one. The temporary name, &lt;name&gt;.&lt;pid&gt;.&lt;random&gt;.&lt;host&gt;.tmp, says who left it.
/// </summary>
public static class DurableFile
{
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = PrivateFiles.FilePermissions)
    {
        var temp = TemporaryName(path);
        try
        {
            WriteSynced(temp, content, FileMode.CreateNew, mode);
            AtomicFiles.Rename(temp, path);
        }
        finally { if (File.Exists(temp)) File.Delete(temp); }
        AtomicFiles.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static string TemporaryName(string path) => $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.{Environment.MachineName}.tmp";

    /// <summary>Writes and fsyncs a new file (its missing folders 0700); the mode is the file's from its creation.</summary>
    public static void WriteSynced(string path, ReadOnlySpan<byte> content, FileMode fileMode, UnixFileMode mode = PrivateFiles.FilePermissions)
    {
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = fileMode, Access = FileAccess.Write, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using var fs = new FileStream(path, options);
        fs.Write(content);
        fs.Flush(true);
    }
}
