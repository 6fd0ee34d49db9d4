using System.Management.Automation;
using ExoBackup.Engine;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Commands;

/// <summary>Stop-ExoPlatform: stops eXo through Tomcat's shutdown port (else SIGTERM) and waits until it is gone.</summary>
[Cmdlet(VerbsLifecycle.Stop, "ExoPlatform", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(global::ExoBackup.Platform))]
public sealed class StopExoPlatformCommand : ExoCmdlet
{
    readonly List<PlatformInfo> _targets = [];

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "Home", "FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Platform { get; set; } = ["."];

    /// <summary>Seconds to wait for eXo to exit.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int Timeout { get; set; } = 120;

    /// <summary>Kill eXo (and its children) if it has not stopped after -Timeout seconds.</summary>
    [Parameter] public SwitchParameter Kill { get; set; }

    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var p in Platform)
        {
            var home = ResolvePath(p);
            var info = RunEngine((_, _) => PlatformDiscovery.Discover(home));
            var action = info.IsRunning ? $"Stop eXo (PID {info.Pid}){(Kill ? ", killing it after " + Timeout + " s" : "")}" : "Stop eXo (not running)";
            if (ShouldProcess(info.Home, action)) _targets.Add(info);
        }
    }

    // Several platforms (cluster nodes) stop in parallel: all must be down before a backup.
    protected override void EndProcessing()
    {
        if (_targets.Count == 0) return;
        var results = RunEngine((log, ct) => PlatformProcess.StopAll(_targets, TimeSpan.FromSeconds(Timeout), Kill, log, ct));
        ExoBackupException? first = null;
        foreach (var (target, outcome, error) in results.Select(r => (r.Platform, r.Outcome, r.Error)))
        {
            if (error is not null)
            {
                if (first is null) first = error; else WriteError(ToErrorRecord(error));
                continue;
            }
            WriteVerbose($"{target.Home}: {outcome}.");
            if (PassThru) WriteObject(global::ExoBackup.Platform.From(target));
        }
        if (first is not null) ThrowTerminatingError(ToErrorRecord(first));
    }
}
