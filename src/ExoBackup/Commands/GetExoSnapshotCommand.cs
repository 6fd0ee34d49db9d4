using System.Management.Automation;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Commands;

/// <summary>Get-ExoSnapshot: lists the snapshots of a repository, oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "ExoSnapshot")]
[OutputType(typeof(Snapshot))]
public sealed class GetExoSnapshotCommand : ExoCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Repository { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("SnapshotId")]
    [ArgumentCompleter(typeof(SnapshotIdCompleter))]
    [SupportsWildcards]
    public string[]? Id { get; set; }

    [Parameter] public SnapshotType[]? Type { get; set; }

    /// <summary>Only the newest complete snapshot (of the -Type given).</summary>
    [Parameter] public SwitchParameter Latest { get; set; }

    /// <summary>Also list snapshots still being written or abandoned (status InProgress).</summary>
    [Parameter] public SwitchParameter IncludeIncomplete { get; set; }

    protected override void ProcessRecord()
    {
        var path = ResolvePath(Repository);
        var list = RunEngine((_, _) => SnapshotRepository.Open(path, false).List(IncludeIncomplete && !Latest));
        IEnumerable<SnapshotEntry> result = list;
        if (Type is { Length: > 0 }) result = result.Where(s => Type.Contains(Mirror.To<SnapshotType>(s.Manifest.Type)));
        if (Id is { Length: > 0 })
        {
            var patterns = Id.Select(i => new WildcardPattern(i, WildcardOptions.IgnoreCase)).ToList();
            result = result.Where(s => patterns.Any(p => p.IsMatch(s.Id)));
        }
        if (Latest) result = result.Where(s => s.Status == Engine.Repository.SnapshotStatus.Complete).TakeLast(1);
        var written = result.ToList();
        if (Latest && written is [{ Manifest.Consistency: Engine.Repository.Consistency.Online } online])
            WriteWarning($"The latest snapshot, {online.Id}, is Online: it was taken while eXo ran, and its parts may not agree with each other. Restore it only knowingly (Get-ExoSnapshot lists the Offline ones).");
        foreach (var s in written) WriteObject(ExoBackup.Snapshot.From(path, s));
        // An exact id that names nothing is an error about that input alone (as Get-Item's), not a silence.
        foreach (var id in Id ?? [])
            if (!WildcardPattern.ContainsWildcardCharacters(id) && !list.Any(s => s.Id.Equals(id, StringComparison.OrdinalIgnoreCase)))
                WriteError(ToErrorRecord(Engine.Errors.SnapshotNotFound(id, path, IncludeIncomplete)));
    }
}
