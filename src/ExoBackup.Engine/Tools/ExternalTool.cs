using ExoBackup.Engine.IO;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ExoBackup.Engine.Tools;

/// <summary>
/// Runs a database client tool (pg_dump, mariadb-dump, …) the safe way: found on -ToolPath or PATH,
/// arguments as a list (never a shell line), secrets only in 0600 files named by an option or an
/// environment variable, standard error kept for the message, the exit code checked, and the
/// whole process tree killed on Ctrl+C.
/// </summary>
public sealed class ExternalTool
{
    ExternalTool(string name, string path) { Name = name; Path = path; }

    public string Name { get; }
    public string Path { get; }

    /// <summary>The first of <paramref name="names"/> found in the -ToolPath folders, then on PATH.</summary>
    public static ExternalTool Find(IReadOnlyList<string> toolPaths, string package, params string[] names)
    {
        var dirs = toolPaths.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        var exts = OperatingSystem.IsWindows() ? new[] { ".exe", ".cmd", "" } : new[] { "" };
        foreach (var name in names)
            foreach (var dir in dirs)
                foreach (var ext in exts)
                {
                    var candidate = System.IO.Path.Combine(dir, name + ext);
                    if (File.Exists(candidate)) return new ExternalTool(name, Trusted(candidate));
                }
        throw Errors.ToolNotFound(names, toolPaths, package);
    }

    /// <summary>
    /// As root, a tool runs with root's rights: it, what it links to, and their folders must belong to
    /// root or this account and be writable by nobody else. A PATH or -ToolPath folder that the eXo
    /// account can write would otherwise let it run anything as root (finding 2.14).
    /// </summary>
    static string Trusted(string candidate)
    {
        if (!IO.FileStatReader.IsRoot) return candidate;
        var real = File.ResolveLinkTarget(candidate, returnFinalTarget: true)?.FullName ?? candidate;
        foreach (var path in new[] { candidate, real, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(candidate))!, System.IO.Path.GetDirectoryName(real)! }.Distinct())
        {
            var st = IO.FileStatReader.Get(path);
            if (st.Type == IO.EntryType.Symlink) continue; // judged by what it points to, above
            if ((st.Uid != 0 && st.Uid != IO.FileStatReader.EffectiveUid) || (st.Mode & 0x12) != 0)
                throw Errors.UnsafeTool(candidate, path, st.Uid, st.Mode);
        }
        return candidate;
    }

    /// <summary>The version a tool prints for --version (the first x.y[.z] in it).</summary>
    public Version? ReadVersion(CancellationToken ct)
    {
        var r = Run(["--version"], null, ct, check: false);
        var m = Regex.Match(r.StandardOutput + r.StandardError, @"(\d+)\.(\d+)(?:\.(\d+))?");
        return m.Success ? new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), m.Groups[3].Success ? int.Parse(m.Groups[3].Value) : 0) : null;
    }

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs to completion, capturing output (for small outputs only).</summary>
    public Result Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env, CancellationToken ct, bool check = true)
    {
        var stdout = new StringBuilder();
        var code = Run(args, env, null, s => { using var r = new StreamReader(s); stdout.Append(r.ReadToEnd()); }, ct, out var stderr);
        var result = new Result(code, stdout.ToString(), stderr);
        if (check && code != 0) throw Failed(code, stderr);
        return result;
    }

    /// <summary>
    /// Runs with standard input fed by <paramref name="stdin"/> and standard output read by
    /// <paramref name="stdout"/> (both on their own threads, so large streams never deadlock).
    /// Returns the exit code; standard error (its last 4 KiB) comes back in <paramref name="stderr"/>.
    /// </summary>
    public int Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env, Action<Stream>? stdin, Action<Stream>? stdout,
        CancellationToken ct, out string stderr)
    {
        var psi = new ProcessStartInfo(Path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        KeepAllowed(psi.Environment);
        // A null value removes the variable: no inherited PGPASSWORD or MYSQL_PWD reaches the tool.
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw Failed(-1, "could not be started");
        var errors = new StringBuilder();
        var errTask = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = p.StandardError.Read(buffer, 0, buffer.Length)) > 0)
                lock (errors) { errors.Append(buffer, 0, n); if (errors.Length > 8192) errors.Remove(0, errors.Length - 4096); }
        });
        var inTask = Task.Run(() =>
        {
            try { stdin?.Invoke(p.StandardInput.BaseStream); }
            catch (IOException) { } // the tool closed its input (it failed): its exit code tells
            finally { try { p.StandardInput.Close(); } catch (IOException) { } }
        });
        var outTask = Task.Run(() =>
        {
            if (stdout is not null) stdout(p.StandardOutput.BaseStream);
            else p.StandardOutput.BaseStream.CopyTo(Stream.Null);
        });
        using (ct.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
        {
            try
            {
                Task.WaitAll([outTask, inTask, errTask]);
            }
            catch (AggregateException e) when (!ct.IsCancellationRequested)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.WaitForExit();
                var inner = e.InnerExceptions.First();
                if (inner is ExoBackupException or IOException) throw inner;
                throw Failed(-1, inner.Message);
            }
            catch (AggregateException) { }
            p.WaitForExit();
        }
        ct.ThrowIfCancellationRequested();
        lock (errors) stderr = errors.ToString().Trim();
        return p.ExitCode;
    }

    static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
        // libpq's TLS and service settings, which an admin may set for the database clients.
        "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL", "PGREQUIRESSL", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", "PGTZ", "PGCLIENTENCODING",
    };

    /// <summary>
    /// A tool starts with an allow-listed environment, plus what its caller sets: the caller's other
    /// variables (EXO_DB_PASSWORD and EXO_MONGO_PASSWORD of a Docker-style setup, anything else
    /// secret) never reach it, nor whatever it starts (finding 2.12). EXOBACKUP_* is ExoBackup's own
    /// namespace (the stand-in tools of its tests read their settings there).
    /// </summary>
    static void KeepAllowed(IDictionary<string, string?> environment)
    {
        foreach (var name in environment.Keys.ToList())
            if (!Allowed.Contains(name) && !name.StartsWith("LC_", StringComparison.Ordinal) && !name.StartsWith("EXOBACKUP_", StringComparison.Ordinal))
                environment.Remove(name);
    }

    /// <summary>A tool's output with every secret, and each line of one of several lines (4 characters or more), replaced by ***.</summary>
    public static string Redact(string text, params string?[] secrets)
    {
        foreach (var secret in secrets.Where(s => !string.IsNullOrEmpty(s)))
            foreach (var piece in new[] { secret! }.Concat(secret!.Split('\n', '\r')).Where(x => x.Length >= 4).OrderByDescending(x => x.Length))
                text = text.Replace(piece, "***", StringComparison.Ordinal);
        return text;
    }

    /// <summary>
    /// The tool's failure, quoting its standard error with every secret the caller names taken out,
    /// and each line of a secret of several lines (a client quotes what it took for an option).
    /// </summary>
    public ExoBackupException Failed(int code, string stderr, params string?[] secrets) =>
        Errors.ToolFailed(Name, Path, code, Redact(stderr, secrets));
}
