using System.Management.Automation;
using ExoBackup.Engine;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup;

/// <summary>Cmdlets that act on one snapshot: given as an object from the pipeline, or as -Repository and -Id.</summary>
public abstract class SnapshotCmdlet : ExoCmdlet
{
    protected const string BySnapshot = "Snapshot";
    protected const string ById = "Id";

    [Parameter(Mandatory = true, ParameterSetName = BySnapshot, ValueFromPipeline = true, Position = 0)]
    public Snapshot? Snapshot { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public virtual string? Repository { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true, Position = 0)]
    [Alias("SnapshotId")]
    [ArgumentCompleter(typeof(SnapshotIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Id { get; set; }

    internal string RepositoryPath => ResolvePath(Snapshot?.Repository ?? Repository!);
    internal string SnapshotIdValue => Snapshot?.Id ?? Id!;

    internal SnapshotRepository OpenRepository() => RunEngine((_, _) => SnapshotRepository.Open(RepositoryPath, create: false));

    /// <summary>
    /// What every Backup-Exo* part cmdlet does around its own work: find the open snapshot and its
    /// platform (or -Platform), ask ShouldProcess, run the part with eXo's state recorded at its
    /// start and end, and write the part.
    /// </summary>
    internal void BackUpPart(string? platformOverride, string what,
        Func<SnapshotRepository, SnapshotEntry, PlatformInfo, IOperationLog, CancellationToken, PartRecord> backup) =>
        BackUpParts(platformOverride, what, (repo, open, platform, log, ct) =>
            [PartRunner.Run(repo, open, () => PlatformProcess.FindPid(platform) is not null, () => backup(repo, open, platform, log, ct), log, what)]);

    /// <summary>The same for a cmdlet whose engine records several parts itself (one per database).</summary>
    internal void BackUpParts(string? platformOverride, string what,
        Func<SnapshotRepository, SnapshotEntry, PlatformInfo, IOperationLog, CancellationToken, IReadOnlyList<PartRecord>> backup)
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var open = RunEngine((_, _) => repo.GetOpen(id));
        var home = ResolvePath(platformOverride ?? open.Manifest.Platform.Home);
        if (!ShouldProcess(home, $"Back up {what} into snapshot {id}")) return;
        var parts = RunEngine((log, ct) => backup(repo, open, PlatformDiscovery.Discover(home), log, ct));
        foreach (var part in parts)
        {
            foreach (var w in part.Warnings) WriteWarning(w);
            WriteObject(BackupPart.From(repo.Root, id, part));
        }
    }
}

/// <summary>Completes -Id from the snapshots of the repository given with -Repository.</summary>
public sealed class SnapshotIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        if (fakeBoundParameters["Repository"] is not string repo) return [];
        try
        {
            // A relative -Repository is relative to the session's location, as the cmdlet will resolve it.
            if (!Path.IsPathRooted(repo))
            {
                // The completer runs inside the session's pipeline: a nested Get-Location asks the session.
                using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
                var here = ps.AddCommand("Microsoft.PowerShell.Management\\Get-Location").AddParameter("PSProvider", "FileSystem").Invoke<PathInfo>().FirstOrDefault();
                if (here is null) return [];
                repo = Path.Combine(here.ProviderPath, repo);
            }
            return SnapshotRepository.Open(repo, false).List(true)
                .Where(s => s.Id.StartsWith(wordToComplete, StringComparison.OrdinalIgnoreCase))
                .Reverse()
                .Select(s => new CompletionResult(s.Id, s.Id, CompletionResultType.ParameterValue, $"{s.Id} {s.Status} {s.Manifest.Type}"))
                .ToList();
        }
        catch (Exception) { return []; }
    }
}
