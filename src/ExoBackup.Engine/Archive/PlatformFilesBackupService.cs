using ExoBackup.Engine.Hashing;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Archive;

public sealed record DataDirOptions
{
    public bool IncludeSwap { get; init; }
    public bool IncludeTransactionStore { get; init; }
    public IReadOnlyList<string> Exclude { get; init; } = [];
    public TreeBackupOptions Tree { get; init; } = new();
}

/// <summary>The data dir and configuration parts: which folders and files each takes, and where they go back.</summary>
public static class PlatformFilesBackupService
{
    public const string DataDir = PartComponents.DataDir;
    public const string Configuration = PartComponents.Configuration;
    public const string DataDirFile = "datadir";
    public const string ConfigurationFile = "configuration";

    /// <summary>The data dir, plus any storage folder an admin moved outside it (exo.properties, -D options).</summary>
    public static IReadOnlyList<TreeRoot> DataDirRoots(PlatformInfo p)
    {
        var roots = new List<TreeRoot> { new("", p.Data.DataDir) };
        foreach (var (name, path) in new[] { ("jcr-values", p.Data.JcrValues), ("jcr-index", p.Data.JcrIndex), ("files", p.Data.Files), ("elasticsearch", p.Data.Elasticsearch) })
            if (!IsUnder(path, p.Data.DataDir) && Directory.Exists(path)) roots.Add(new TreeRoot("_external/" + name, path));
        return roots;
    }

    /// <summary>What eXo needs to start with the same secrets: gatein/conf with the codec key, the admin's scripts, server.xml, add-on state.</summary>
    public static IReadOnlyList<TreeRoot> ConfigurationRoots(PlatformInfo p) =>
    [
        new("gatein/conf", p.ConfDir),
        new("bin/setenv-customize.sh", Path.Combine(p.Home, "bin", "setenv-customize.sh")),
        new("bin/setenv-customize.bat", Path.Combine(p.Home, "bin", "setenv-customize.bat")),
        new("conf/server.xml", Path.Combine(p.Home, "conf", "server.xml")),
        new("conf/context.xml", Path.Combine(p.Home, "conf", "context.xml")),
        new("conf/jaas.conf", Path.Combine(p.Home, "conf", "jaas.conf")),
        new("addons/statuses", Path.Combine(p.Home, "addons", "statuses")),
        new("addons/local.json", Path.Combine(p.Home, "addons", "local.json")),
    ];

    /// <summary>Where each archive prefix goes back: the platform's own paths (or, with a data-dir override, inside it).</summary>
    public static string TargetFor(string prefix, PlatformInfo p, string? dataDirOverride)
    {
        if (prefix.Length == 0) return dataDirOverride ?? p.Data.DataDir;
        if (dataDirOverride is not null && prefix.StartsWith("_external/", StringComparison.Ordinal)) return Path.Combine(dataDirOverride, prefix);
        return prefix switch
        {
            "_external/jcr-values" => p.Data.JcrValues,
            "_external/jcr-index" => p.Data.JcrIndex,
            "_external/files" => p.Data.Files,
            "_external/elasticsearch" => p.Data.Elasticsearch,
            "gatein/conf" => p.ConfDir,
            _ => Path.Combine(p.Home, prefix.Replace('/', Path.DirectorySeparatorChar)),
        };
    }

    public static Func<string, bool> DataDirExcluder(PlatformInfo p, DataDirOptions o)
    {
        var exact = new List<string>();
        if (!o.IncludeSwap && IsUnder(p.Data.JcrSwap, p.Data.DataDir)) exact.Add(Relative(p.Data.JcrSwap, p.Data.DataDir));
        if (!o.IncludeTransactionStore) exact.Add("jta");
        return TreeScanner.Excluder(exact, o.Exclude);
    }

    public static PartRecord BackupDataDir(SnapshotRepository repo, SnapshotEntry snapshot, PlatformInfo p, DataDirOptions o, IOperationLog log, CancellationToken ct)
    {
        if (!Directory.Exists(p.Data.DataDir))
            throw Errors.DataDirNotFound(p.Data.DataDir, p.Home);
        var parent = ParentIndex(repo, snapshot, DataDir, DataDirFile, log);
        var part = TreeBackup.Run(DataDir, DataDirFile, snapshot, DataDirRoots(p), parent, o.Tree with { Excluded = DataDirExcluder(p, o) }, log, ct);
        part.Tree.Excluded = string.Join(", ", new[] { o.IncludeSwap ? null : "jcr/swap", o.IncludeTransactionStore ? null : "jta" }.Concat(o.Exclude).Where(x => x is not null));
        if (parent is not null) part.Tree.Parent = parent.Header.Snapshot;
        return part;
    }

    public static PartRecord BackupConfiguration(SnapshotEntry snapshot, PlatformInfo p, TreeBackupOptions o, IOperationLog log, CancellationToken ct)
    {
        if (!Directory.Exists(p.ConfDir))
            throw Errors.ConfDirNotFound(p.ConfDir, p.Home);
        var part = TreeBackup.Run(Configuration, ConfigurationFile, snapshot, ConfigurationRoots(p), null, o, log, ct);
        if (File.Exists(p.CodecKeyFile)) part.Tree.CodecKeySha256 = CodecKeyHash(p.CodecKeyFile);
        else part.Warnings.Add($"There is no codec key at {p.CodecKeyFile}: eXo creates one at its first start; secrets in the database were encrypted with whatever key existed then.");
        return part;
    }

    /// <summary>The parent's index for an incremental or differential part; none (a full part) when the parent lacks this component.</summary>
    static FileIndex? ParentIndex(SnapshotRepository repo, SnapshotEntry snapshot, string component, string fileBase, IOperationLog log)
    {
        var parentId = snapshot.Manifest.Parent;
        if (snapshot.Manifest.Type == SnapshotType.Full || parentId is null) return null;
        var (chain, broken) = repo.Chain(parentId);
        if (broken is not null)
            throw Errors.ChainBrokenParent(snapshot.Id, parentId, broken);
        var parent = chain[0];
        var name = $"{fileBase}.index.jsonl.zst";
        var part = parent.Manifest.Parts.FirstOrDefault(x => x.Component == component);
        if (part is null || parent.Storage.Stat(Storage.StorageNames.Join(parent.Folder, name)) is not { IsFolder: false })
        {
            log.Warning($"The parent snapshot {parent.Id} has no {component} part; this {component} part is a full one.");
            return null;
        }
        // Checked against the parent's record first: a damaged hash in it would pass into every later index (finding 1.13).
        // Read once, so that what is parsed is what was hashed (the repository may be writable by others).
        var recorded = part.Files.FirstOrDefault(f => f.Path == name)?.Sha256;
        var bytes = new MemoryStream();
        using (var fs = parent.OpenRead(name)) fs.CopyTo(bytes);
        if (recorded is null || !Sha256.Hex(bytes.GetBuffer().AsSpan(0, (int)bytes.Length)).Equals(recorded, StringComparison.OrdinalIgnoreCase))
        {
            log.Warning($"The index of {component} in the parent snapshot {parent.Id} does not match its recorded SHA-256; this {component} part reads every file, as a full one. Run Test-ExoSnapshot on {parent.Id}.");
            return null;
        }
        bytes.Position = 0;
        return FileIndex.Read(bytes, name);
    }

    public static string CodecKeyHash(string file) => Sha256.OfFile(file);

    public static bool IsUnder(string path, string root)
    {
        var rel = Path.GetRelativePath(root, path);
        return rel != ".." && !rel.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) && !Path.IsPathRooted(rel);
    }

    static string Relative(string path, string root) => Path.GetRelativePath(root, path).Replace('\\', '/');
}
