using System.Management.Automation;
using ExoBackup.Engine.Schedule;

namespace ExoBackup.Commands;

/// <summary>Register-ExoBackupSchedule: writes a systemd service and timer that run a runbook unattended.</summary>
[Cmdlet(VerbsLifecycle.Register, "ExoBackupSchedule", SupportsShouldProcess = true)]
[OutputType(typeof(BackupSchedule))]
public sealed class RegisterExoBackupScheduleCommand : ExoCmdlet
{
    /// <summary>The runbook to run: a pwsh script only root can change.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Script { get; set; } = "";

    /// <summary>The runbook's own arguments, passed after its path.</summary>
    [Parameter] public string[] ArgumentList { get; set; } = [];

    /// <summary>When: a systemd calendar event (systemd.time(7)).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string OnCalendar { get; set; } = "*-*-* 02:15:00";

    /// <summary>The units' name: &lt;Name&gt;.service and &lt;Name&gt;.timer.</summary>
    [Parameter]
    [ValidatePattern("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    public string Name { get; set; } = "exobackup-nightly";

    /// <summary>Seconds of random delay, so that many hosts do not start together.</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int RandomizedDelay { get; set; }

    /// <summary>Where the units are written.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string UnitPath { get; set; } = "/etc/systemd/system";

    protected override void EndProcessing()
    {
        var exe = Environment.ProcessPath ?? "/usr/bin/pwsh";
        // pwsh as a dotnet tool is `dotnet pwsh.dll`: the unit must name both.
        IReadOnlyList<string> pwsh = Path.GetFileNameWithoutExtension(exe) == "dotnet" ? [exe, Path.Combine(PSHome(), "pwsh.dll")] : [exe];
        var request = new ScheduleRequest
        {
            Name = Name, Script = ResolvePath(Script), Arguments = ArgumentList, OnCalendar = OnCalendar,
            RandomizedDelay = TimeSpan.FromSeconds(RandomizedDelay), UnitFolder = ResolvePath(UnitPath), Pwsh = pwsh,
        };
        var units = RunEngine((_, _) => SystemdSchedule.Render(request));
        if (!ShouldProcess(units.ServicePath + ", " + units.TimerPath, $"Write the units\n{units.Service}\n{units.Timer}")) return;
        RunEngine((_, _) => SystemdSchedule.Write(request));
        WriteVerbose($"Next: systemctl daemon-reload && systemctl enable --now {Name}.timer");
        WriteObject(new BackupSchedule
        {
            Name = Name, Script = request.Script, OnCalendar = OnCalendar, ServicePath = units.ServicePath, TimerPath = units.TimerPath,
            Service = units.Service, Timer = units.Timer,
        });
    }

    string PSHome() => (string)SessionState.PSVariable.GetValue("PSHOME");
}
