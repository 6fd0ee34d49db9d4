using System.Runtime.InteropServices;

namespace ExoBackup.Engine.IO;

/// <summary>How a create-if-absent step ended.</summary>
public enum NoReplaceResult { Done, Exists }

/// <summary>
/// The file-system steps that must be one system call: a name that appears only if it did not exist
/// (link(2), else renameat2 RENAME_NOREPLACE), a rename that moves whatever the name holds at that
/// instant (rename(2); .NET's File.Move without overwrite is a check then a rename on file systems
/// without hard links), and an fsync of a folder so a rename in it survives a power cut.
/// </summary>
public static partial class AtomicFiles
{
    const int EEXIST = 17, EXDEV = 18, EPERM = 1, EMLINK = 31, ENOSYS = 38, EINVAL = 22, EOPNOTSUPP = 95;
    const int AT_FDCWD = -100, RENAME_NOREPLACE = 1;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysLink(string existing, string newPath);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysRenameAt2(int oldDir, string oldPath, int newDir, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysRename(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int SysFsync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int SysFsyncHandle(Microsoft.Win32.SafeHandles.SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SysSyncFs(int fd);

    /// <summary>
    /// Gives <paramref name="existing"/> a second name <paramref name="newPath"/> only if that name is
    /// free, in one step; the caller removes the first name. Throws where the file system can do neither.
    /// </summary>
    public static NoReplaceResult LinkNoReplace(string existing, string newPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Windows' MoveFileEx without REPLACE_EXISTING is one step; elsewhere it is the best there is.
            try { File.Copy(existing, newPath, overwrite: false); return NoReplaceResult.Done; }
            catch (IOException) when (File.Exists(newPath)) { return NoReplaceResult.Exists; }
        }
        if (SysLink(existing, newPath) == 0) return NoReplaceResult.Done;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return NoReplaceResult.Exists;
        if (errno is not (EPERM or EOPNOTSUPP or ENOSYS or EXDEV or EMLINK))
            throw new IOException($"link '{existing}' to '{newPath}' failed (errno {errno}).");
        // No hard links here (vfat, some FUSE and SMB mounts): a rename that refuses to replace.
        if (SysRenameAt2(AT_FDCWD, existing, AT_FDCWD, newPath, RENAME_NOREPLACE) == 0) return NoReplaceResult.Done;
        errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST) return NoReplaceResult.Exists;
        if (errno is EINVAL or ENOSYS or EOPNOTSUPP)
            throw Errors.RepositoryLockUnsupported(newPath);
        throw new IOException($"renameat2 '{existing}' to '{newPath}' failed (errno {errno}).");
    }

    /// <summary>rename(2): atomically gives whatever <paramref name="from"/> names now the name <paramref name="to"/>, replacing it.</summary>
    public static bool Rename(string from, string to)
    {
        if (!OperatingSystem.IsLinux())
        {
            try { File.Move(from, to, overwrite: true); return true; }
            catch (FileNotFoundException) { return false; }
        }
        if (SysRename(from, to) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == 2) return false; // ENOENT: nothing had that name
        throw new IOException($"rename '{from}' to '{to}' failed (errno {errno}).");
    }

    /// <summary>
    /// fsync of every file and folder under <paramref name="root"/>: what tools wrote (dumps, chat files)
    /// is on disk before a manifest says the snapshot is complete. Files already synced cost next to nothing.
    /// </summary>
    public static void SyncTree(string root)
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
            if (SysFsyncHandle(handle) != 0) throw new IOException($"fsync of '{file}' failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)) SyncDirectory(dir);
        SyncDirectory(root);
    }

    /// <summary>
    /// syncfs(2) of the file system that holds <paramref name="path"/>: one call for a restored tree of a
    /// million files, which must be on disk before it replaces the live one.
    /// </summary>
    public static void SyncFileSystem(string path)
    {
        // No link followed, no FIFO waited on: the path is the staging folder a restore made.
        if (OperatingSystem.IsLinux())
            OnOpened(path, NativeFlags.ReadOnly | NativeFlags.NoFollow | NativeFlags.NonBlock | NativeFlags.CloseOnExec, SysSyncFs, "sync the file system (syncfs) of");
    }

    /// <summary>fsync of a folder, so the renames and creations in it survive a power cut (Linux; a no-op elsewhere).</summary>
    public static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsLinux()) OnOpened(path, NativeFlags.ReadOnly | NativeFlags.Directory | NativeFlags.CloseOnExec, SysFsync, "fsync the folder");
    }

    /// <summary>Opens <paramref name="path"/>, makes one call on the descriptor, closes it; either failing is an IOException saying what it was to <paramref name="what"/>.</summary>
    static void OnOpened(string path, int flags, Func<int, int> call, string what)
    {
        var fd = NativeFlags.Open(path, flags);
        if (fd < 0) throw new IOException($"Cannot open '{path}' to {what} it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (call(fd) != 0) throw new IOException($"Cannot {what} '{path}' (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally { NativeFlags.Close(fd); }
    }
}
