using System.Management.Automation;
using ExoBackup.Engine;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Commands;

/// <summary>Get-ExoPlatform: reads an eXo Tomcat bundle's settings and running state.</summary>
[Cmdlet(VerbsCommon.Get, "ExoPlatform")]
[OutputType(typeof(Platform))]
public sealed class GetExoPlatformCommand : ExoCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Home", "FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = ["."];

    protected override void ProcessRecord()
    {
        foreach (var p in Path)
        {
            var home = ResolvePath(p);
            var info = RunEngine((_, _) => PlatformDiscovery.Discover(home));
            foreach (var note in info.Notes) WriteVerbose(note);
            WriteObject(Platform.From(info));
        }
    }
}
