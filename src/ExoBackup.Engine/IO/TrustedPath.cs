namespace ExoBackup.Engine.IO;

/// <summary>
/// Whether only root (and this account) can change what a path names: the file and every folder above
/// it belong to root or this account and are writable by nobody else, a sticky folder owned by root
/// excepted (others cannot rename or delete what is not theirs in /tmp). Root runs such a file later,
/// unattended: one folder on the way that the eXo account can write would let it put its own code there.
/// </summary>
public static class TrustedPath
{
    const int GroupOrOtherWrite = 0x12, Sticky = 0x200;

    /// <summary>The first path, from the file up to '/' (as given, then as its links resolve), that another account could change, with why; null if none.</summary>
    public static string? FirstUnsafe(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var given = Path.GetFullPath(path);
        var real = Resolve(given);
        foreach (var start in real == given ? [given] : new[] { given, real })
            for (var p = start; p is not null; p = Path.GetDirectoryName(p))
            {
                var st = FileStatReader.Get(p);
                if (st.Uid != 0 && st.Uid != FileStatReader.EffectiveUid) return $"'{p}' belongs to uid {st.Uid}";
                // A link's own mode means nothing; who may replace it is its folder's business, checked next.
                if (st.Type == EntryType.Symlink) continue;
                var sticky = st.Type == EntryType.Directory && (st.Mode & Sticky) != 0 && st.Uid == 0;
                if ((st.Mode & GroupOrOtherWrite) != 0 && !sticky) return $"'{p}' can be written by others (mode {Convert.ToString(st.Mode & 0xFFF, 8)})";
            }
        return null;
    }

    /// <summary>The path with every link on it resolved (realpath), or the path itself if one is missing.</summary>
    static string Resolve(string path)
    {
        var info = new FileInfo(path);
        var parent = info.Directory is { } d ? Resolve(d.FullName) : null;
        var here = parent is null ? path : Path.Combine(parent, info.Name);
        try { return new FileInfo(here).ResolveLinkTarget(returnFinalTarget: true)?.FullName is { } t ? Resolve(t) : here; }
        catch (IOException) { return here; }
    }
}
