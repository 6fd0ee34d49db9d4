// Schedule: runbooks run unattended by systemd timers: the units, written whole, and the checks that
// keep root from running a script another account can change.

using System.Text;
using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Schedule;

/// <summary>What to schedule: a runbook (a pwsh script) with its arguments, when, and where the units go.</summary>
public sealed record ScheduleRequest
{
    public required string Name { get; init; }
    public required string Script { get; init; }
    public IReadOnlyList<string> Arguments { get; init; } = [];
    /// <summary>systemd's calendar event (systemd.time(7)), e.g. "*-*-* 02:15:00" or "Sun 03:00".</summary>
    public string OnCalendar { get; init; } = "*-*-* 02:15:00";
    public TimeSpan RandomizedDelay { get; init; } = TimeSpan.Zero;
    public string UnitFolder { get; init; } = "/etc/systemd/system";
    /// <summary>The pwsh that runs the script: its executable, and the arguments before -File (pwsh.dll when pwsh is a dotnet tool).</summary>
    public required IReadOnlyList<string> Pwsh { get; init; }
}

/// <summary>The two units of a schedule, as written.</summary>
public sealed record ScheduleUnits(string ServicePath, string Service, string TimerPath, string Timer);

/// <summary>
/// A systemd service (Type=oneshot: the runbook's exit code is the unit's result, so a failed night is
/// a failed unit in `systemctl --failed` and the journal) and a timer (Persistent=true: a night missed
/// while the host was down runs at the next boot).
/// </summary>
public static class SystemdSchedule
{
    public static ScheduleUnits Render(ScheduleRequest r)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(r.Name, "^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$"))
            throw Errors.InvalidArgumentUnitName(r.Name);
        if (r.OnCalendar.Any(char.IsControl))
            throw Errors.InvalidArgumentCalendar(r.OnCalendar);
        var exec = string.Join(' ', r.Pwsh.Concat(["-NoProfile", "-NonInteractive", "-File", r.Script]).Concat(r.Arguments).Select(Quote));
        var service = new StringBuilder()
            .Append("# Written by ExoBackup's Register-ExoBackupSchedule.\n")
            .Append("[Unit]\n")
            .Append($"Description=ExoBackup runbook {Escape(r.Script)}\n")
            .Append("Wants=network-online.target\nAfter=network-online.target\n\n")
            .Append("[Service]\nType=oneshot\n")
            .Append($"ExecStart={exec}\n")
            // A backup is long I/O: below interactive work, never killed for taking its time.
            .Append("Nice=10\nIOSchedulingClass=best-effort\nIOSchedulingPriority=7\nTimeoutStartSec=infinity\n")
            .ToString();
        var timer = new StringBuilder()
            .Append("# Written by ExoBackup's Register-ExoBackupSchedule.\n")
            .Append("[Unit]\n")
            .Append($"Description=Runs {r.Name}.service ({Escape(r.OnCalendar)})\n\n")
            .Append("[Timer]\n")
            .Append($"OnCalendar={r.OnCalendar}\n")
            .Append("Persistent=true\n")
            .Append($"RandomizedDelaySec={(long)r.RandomizedDelay.TotalSeconds}\n\n")
            .Append("[Install]\nWantedBy=timers.target\n")
            .ToString();
        return new ScheduleUnits(Path.Combine(r.UnitFolder, r.Name + ".service"), service, Path.Combine(r.UnitFolder, r.Name + ".timer"), timer);
    }

    /// <summary>Refuses a runbook that another account could change (root runs it every night), then writes both units whole.</summary>
    public static ScheduleUnits Write(ScheduleRequest r)
    {
        var units = Render(r);
        CheckScript(r.Script);
        DurableFile.Write(units.ServicePath, Encoding.UTF8.GetBytes(units.Service), UnitMode);
        DurableFile.Write(units.TimerPath, Encoding.UTF8.GetBytes(units.Timer), UnitMode);
        return units;
    }

    const UnixFileMode UnitMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static void CheckScript(string script)
    {
        if (!File.Exists(script))
            throw Errors.ScriptNotFound(script);
        if (FileStatReader.IsRoot && TrustedPath.FirstUnsafe(script) is { } why)
            throw Errors.UnsafeScriptOwnerRunbook(script, why);
    }

    /// <summary>One word of ExecStart: double-quoted with \ and " escaped, and systemd's % and $ doubled.</summary>
    static string Quote(string word)
    {
        if (word.Any(char.IsControl))
            throw Errors.InvalidArgumentRunbookLine();
        return "\"" + Escape(word).Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("$", "$$") + "\"";
    }

    static string Escape(string text) => text.Replace("%", "%%");
}
