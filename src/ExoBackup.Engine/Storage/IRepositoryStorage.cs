// Storage: where a repository's files live, and the only code of the repository that touches them.
// The repository, archive and restore code name files; a storage keeps, lists, reads and removes them.

namespace ExoBackup.Engine.Storage;

/// <summary>A file or folder of a storage: its name (relative, '/'-separated) and, for a file, its size.</summary>
public sealed record StoredItem(string Name, bool IsFolder, long Size);

/// <summary>
/// The storage seam under a repository, as restic's backends: save (whole or not at all), load (whole
/// or a range), stat, list, remove, and the exclusive create a lock needs. Names are relative and
/// '/'-separated; a name with an empty, '.' or '..' part is refused (<see cref="StorageNames"/>).
/// The local folder (<see cref="LocalFolderStorage"/>) is the first implementation.
/// <para>
/// Part writers fill the staging folder of an open snapshot with ordinary files
/// (<see cref="StagingFolder"/>): external dump tools need a path. <see cref="Publish"/> then makes the
/// staged folder visible under its final name in one step; a storage without a rename (an object
/// store) uploads it, its manifest last, so that a snapshot is complete only once whole.
/// </para>
/// </summary>
public interface IRepositoryStorage
{
    /// <summary>Where it is, as shown in messages: a folder path here, a URL for a remote storage.</summary>
    string Location { get; }

    /// <summary>What has that name, or null.</summary>
    StoredItem? Stat(string name);

    /// <summary>The files and folders directly in a folder ("" is the top), in ordinal order; none if it does not exist.</summary>
    IReadOnlyList<StoredItem> List(string folder);

    /// <summary>Every file under a folder, names relative to the storage, in ordinal order.</summary>
    IReadOnlyList<StoredItem> ListFiles(string folder);

    /// <summary>Reads a file from <paramref name="offset"/>, to its end or for <paramref name="length"/> bytes.</summary>
    Stream Load(string name, long offset = 0, long? length = null);

    /// <summary>Writes a file whole or not at all: a crash leaves the old content or the new, never a torn file.</summary>
    void Save(string name, ReadOnlySpan<byte> content);

    /// <summary>Creates a file whole only if nothing has the name, in one step (two writers never both succeed).</summary>
    bool SaveNew(string name, ReadOnlySpan<byte> content);

    /// <summary>Gives whatever <paramref name="from"/> names now the name <paramref name="to"/>, replacing it; false if nothing had the name.</summary>
    bool Rename(string from, string to);

    /// <summary>Removes a file, or a folder with all it holds, without following links; nothing there is nothing to do.</summary>
    void Remove(string name);

    /// <summary>A local folder that part writers fill (created 0700 when asked); here the folder itself.</summary>
    string StagingFolder(string name, bool create);

    /// <summary>Everything under a staged folder on stable storage (what tools wrote, too).</summary>
    void Flush(string folder);

    /// <summary>Makes a staged folder visible as <paramref name="final"/> whole: a rename here.</summary>
    void Publish(string staged, string final);

    /// <summary>A local path to a file or folder, for tools that read paths (pg_restore, mongorestore); disposed when they are done.</summary>
    LocalCopy Materialize(string name);
}

/// <summary>A storage file or folder as a local path; a remote storage's download goes with the disposal.</summary>
public sealed class LocalCopy(string path, Action? dispose = null) : IDisposable
{
    public string Path { get; } = path;
    public void Dispose() => dispose?.Invoke();
}
