using ExoBackup.Engine.IO;
using System.Diagnostics;

namespace ExoBackup.Engine.Platform;

/// <summary>An account of this machine, as getent passwd gives it.</summary>
public sealed record RunAccount(string Name, int Uid, int Gid, string HomeDir)
{
    /// <summary>No passwd entry: no supplementary groups to take.</summary>
    public bool Unlisted { get; init; }

    public override string ToString() => $"{Name} (uid {Uid})";
}

/// <summary>
/// Who runs the bundle's scripts and eXo itself. As root, never root: the eXo account owns the bundle
/// and edits bin/setenv-customize.sh, so a root start ran that account's code as root, and eXo came
/// back as root. The scripts run as the bundle's owner (or -RunAs); a bundle owned by root is refused
/// unless -RunAs root says so, and a script to run owned by neither root nor that account is refused.
/// Not as root, or on Windows: as the caller, as before.
/// </summary>
public static class BundleAccount
{
    /// <summary>The account to run the bundle's scripts as; null to run them as the caller.</summary>
    public static RunAccount? Resolve(PlatformInfo p, string? runAs)
    {
        if (!OperatingSystem.IsLinux() || !FileStatReader.IsRoot)
        {
            if (runAs is not null && Lookup(runAs) is { } asked && asked.Uid != FileStatReader.EffectiveUid)
                throw Errors.RunAsNotAllowed(asked.ToString(), p.Home);
            return null;
        }
        RunAccount account;
        if (runAs is null)
        {
            var owner = FileStatReader.Get(p.Home);
            if (owner.Uid == 0)
                throw Errors.BundleOwnedByRoot(p.Home);
            // An owner with no passwd entry still runs as its uid and gid, with no supplementary groups.
            account = Lookup(owner.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                      ?? new RunAccount(owner.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), owner.Uid, owner.Gid, p.Home) { Unlisted = true };
        }
        else
        {
            account = Lookup(runAs) ?? throw Errors.RunAsNotFound(runAs);
            if (account.Uid == 0) return null; // told: as the caller, root
        }
        foreach (var script in Scripts(p)) CheckOwner(script, account);
        return account;
    }

    /// <summary>What a start runs: the start script and the scripts Tomcat's catalina.sh sources.</summary>
    static IEnumerable<string> Scripts(PlatformInfo p) =>
        new[] { p.StartScript, Path.Combine(p.Home, "bin", "catalina.sh"), Path.Combine(p.Home, "bin", "setenv.sh"), Path.Combine(p.Home, "bin", "setenv-customize.sh") }
            .Where(File.Exists);

    static void CheckOwner(string script, RunAccount account)
    {
        // A link is judged by what it points to as well: both must belong to root or the account.
        foreach (var path in new[] { script, File.ResolveLinkTarget(script, returnFinalTarget: true)?.FullName }.OfType<string>())
        {
            var st = FileStatReader.Get(path);
            if (st.Uid != 0 && st.Uid != account.Uid)
                throw Errors.UnsafeScriptOwner(path, st.Uid, account.ToString(), account.Name);
            var groupWritable = (st.Mode & 0x10) != 0 && st.Gid != 0 && st.Gid != account.Gid;
            if (st.Type == EntryType.File && ((st.Mode & 0x2) != 0 || groupWritable))
                throw Errors.UnsafeScriptOwnerWritable(path, st.Mode);
        }
    }

    /// <summary>getent passwd by name or uid; null when there is no such account.</summary>
    public static RunAccount? Lookup(string nameOrUid)
    {
        if (string.IsNullOrEmpty(nameOrUid) || nameOrUid.Any(char.IsControl) || nameOrUid.StartsWith('-')) return null;
        var psi = new ProcessStartInfo("getent") { ArgumentList = { "passwd", nameOrUid }, RedirectStandardOutput = true, UseShellExecute = false };
        using var getent = Process.Start(psi);
        if (getent is null) return null;
        var line = getent.StandardOutput.ReadLine();
        getent.WaitForExit();
        var f = line?.Split(':');
        return getent.ExitCode == 0 && f is { Length: >= 7 } && int.TryParse(f[2], out var uid) && int.TryParse(f[3], out var gid)
            ? new RunAccount(f[0], uid, gid, f[5]) : null;
    }

    /// <summary>
    /// The command line that runs <paramref name="program"/> as the account: in a session of its own
    /// (setsid, so it keeps no controlling terminal of root's to push keystrokes into), then setpriv
    /// with its uid, gid and groups.
    /// </summary>
    public static ProcessStartInfo As(RunAccount? account, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(account is null ? program : "setsid");
        if (account is not null)
        {
            foreach (var a in new[] { "--wait", "setpriv", "--reuid", account.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         "--regid", account.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture),
                         account.Unlisted ? "--clear-groups" : "--init-groups", "--", program })
                psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = account.HomeDir;
            psi.Environment["USER"] = account.Name;
            psi.Environment["LOGNAME"] = account.Name;
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }
}
