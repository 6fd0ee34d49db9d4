using System.Runtime.InteropServices;
using ExoBackup.Engine.IO;
using Microsoft.Win32.SafeHandles;

namespace ExoBackup.Engine.Storage;

/// <summary>
/// A repository in a local (or NFS-mounted) folder. Files are 0600 and folders 0700 (they hold
/// server.xml and the codec key); a file is written beside its name, fsynced, renamed over it and the
/// folder fsynced; a lock appears by link(2), which fails if the name exists; removals go through
/// directory handles (a writer of the repository may swap a folder for a link). Files are opened
/// without following a link at their own name.
/// </summary>
public sealed class LocalFolderStorage : IRepositoryStorage
{
    public LocalFolderStorage(string path) => Root = Path.GetFullPath(path);

    /// <summary>The folder, as a full path.</summary>
    public string Root { get; }

    public string Location => Root;

    /// <summary>The local path of a name of this storage.</summary>
    public string PathOf(string name) => name.Length == 0 ? Root : Path.Combine(Root, StorageNames.Checked(name));

    public StoredItem? Stat(string name)
    {
        var info = Info(PathOf(name));
        return info is null ? null : Item(name, info);
    }

    static FileSystemInfo? Info(string path)
    {
        FileSystemInfo file = new FileInfo(path);
        if (file.Exists || file.LinkTarget is not null) return file;
        var dir = new DirectoryInfo(path);
        return dir.Exists ? dir : null;
    }

    // A link is listed as a file, never as a folder: nothing of the repository is reached through one.
    static StoredItem Item(string name, FileSystemInfo info) =>
        info is DirectoryInfo && info.LinkTarget is null
            ? new StoredItem(name, true, 0)
            : new StoredItem(name, false, info is FileInfo f && info.LinkTarget is null ? f.Length : 0);

    public IReadOnlyList<StoredItem> List(string folder)
    {
        var dir = new DirectoryInfo(PathOf(folder));
        if (!dir.Exists) return [];
        return dir.EnumerateFileSystemInfos()
            .Select(i => Item(StorageNames.Join(folder, i.Name), i))
            .OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<StoredItem> ListFiles(string folder)
    {
        // By List, folder by folder: .NET's recursive enumeration enters linked folders.
        var files = new List<StoredItem>();
        var pending = new Stack<string>([folder]);
        while (pending.Count > 0)
            foreach (var item in List(pending.Pop()))
                if (item.IsFolder) pending.Push(item.Name);
                else files.Add(item);
        return files.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    public Stream Load(string name, long offset = 0, long? length = null)
    {
        var path = PathOf(name);
        FileStream stream;
        if (OperatingSystem.IsLinux())
        {
            var fd = NativeFlags.Open(path, NativeFlags.ReadOnly | NativeFlags.NoFollow | NativeFlags.CloseOnExec);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw errno switch
                {
                    2 or 20 => new FileNotFoundException($"'{path}' does not exist.", path),
                    13 => new UnauthorizedAccessException($"Access to '{path}' is denied."),
                    40 => new IOException($"'{path}' is a link; a repository's files are never reached through one."),
                    _ => new IOException($"Cannot open '{path}' (errno {errno})."),
                };
            }
            stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1 << 16);
        }
        else stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (offset != 0) stream.Seek(offset, SeekOrigin.Begin);
        return length is { } n ? new RangeReadStream(stream, n) : stream;
    }

    public void Save(string name, ReadOnlySpan<byte> content) => DurableFile.Write(PathOf(name), content);

    public bool SaveNew(string name, ReadOnlySpan<byte> content)
    {
        var path = PathOf(name);
        RemoveLeftTemporaries(path);
        var temp = DurableFile.TemporaryName(path);
        try
        {
            DurableFile.WriteSynced(temp, content, FileMode.CreateNew);
            if (AtomicFiles.LinkNoReplace(temp, path) == NoReplaceResult.Exists) return false;
            AtomicFiles.SyncDirectory(Path.GetDirectoryName(path)!);
            return true;
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { }
        }
    }

    // DurableFile's temporary names (<name>.<pid>.<random>.<host>.tmp) say whose they are: only this
    // host's are judged (on shared storage another host's PIDs mean nothing).
    /// <summary>What writers of this host killed before they renamed a temporary file left beside <paramref name="path"/>.</summary>
    static void RemoveLeftTemporaries(string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir)) return;
        var prefix = Path.GetFileName(path) + ".";
        foreach (var left in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            var fields = Path.GetFileName(left)[prefix.Length..^".tmp".Length].Split('.', 3);
            var host = fields.Length > 2 ? fields[2] : Environment.MachineName;
            if (host == Environment.MachineName && int.TryParse(fields[0], out var pid) && !Platform.PlatformProcess.IsAlive(pid))
                try { File.Delete(left); } catch (IOException) { }
        }
    }

    public bool Rename(string from, string to)
    {
        var (source, target) = (PathOf(from), PathOf(to));
        if (!AtomicFiles.Rename(source, target)) return false;
        AtomicFiles.SyncDirectory(Path.GetDirectoryName(target)!);
        if (Path.GetDirectoryName(source) != Path.GetDirectoryName(target)) AtomicFiles.SyncDirectory(Path.GetDirectoryName(source)!);
        return true;
    }

    public void Remove(string name)
    {
        var path = PathOf(name);
        TreeDeleter.Delete(path);
        if (Directory.Exists(Path.GetDirectoryName(path))) AtomicFiles.SyncDirectory(Path.GetDirectoryName(path)!);
    }

    public string StagingFolder(string name, bool create)
    {
        var path = PathOf(name);
        if (create) PrivateFiles.CreateDirectory(path);
        return path;
    }

    public void Flush(string folder) => AtomicFiles.SyncTree(PathOf(folder));

    public void Publish(string staged, string final)
    {
        Directory.Move(PathOf(staged), PathOf(final)); // refuses an existing name, unlike rename(2) over an empty folder
        AtomicFiles.SyncDirectory(Path.GetDirectoryName(PathOf(final))!);
    }

    public LocalCopy Materialize(string name) => new(PathOf(name));

    /// <summary>At most <c>length</c> bytes of a stream, which it owns.</summary>
    sealed class RangeReadStream(Stream inner, long length) : ForwardReadStream
    {
        long _left = length;
        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0) return 0;
            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>Storage names: relative, '/'-separated, no empty, '.' or '..' part, no NUL or backslash. Names come from manifests too, which a writer of the repository can forge.</summary>
public static class StorageNames
{
    public static string Join(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;

    public static string Checked(string name)
    {
        if (name.Length == 0 || name[0] == '/' || name.Contains('\\') || name.Contains('\0')
            || name.Split('/').Any(p => p.Length == 0 || p == "." || p == ".."))
            throw Errors.RepositoryCorrupt(
                $"'{name}' does not name a file of the repository (a name is relative, '/'-separated, with no empty, '.' or '..' part): a manifest or a listing that names it is damaged or forged.", name);
        return name;
    }
}
