using System.Management.Automation;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Repository;
using ExoBackup.Engine.Restore;

namespace ExoBackup.Commands;

/// <summary>Test-ExoSnapshot: verifies checksums (Checksum), reads every archive against its index (Archive), or restores into a scratch folder (Restore).</summary>
[Cmdlet(VerbsDiagnostic.Test, "ExoSnapshot", DefaultParameterSetName = BySnapshot)]
[OutputType(typeof(TestResult))]
public sealed class TestExoSnapshotCommand : SnapshotCmdlet
{
    [Parameter] public VerifyLevel Level { get; set; } = VerifyLevel.Checksum;

    protected override void ProcessRecord()
    {
        var repo = OpenRepository();
        var id = SnapshotIdValue;
        var findings = RunEngine((log, ct) =>
        {
            var list = SnapshotVerifier.Verify(repo, id, (Engine.Repository.VerifyLevel)Math.Min((int)Level, 1), log, ct);
            if (Level == VerifyLevel.Restore && list.All(f => f.Passed)) list.AddRange(ScratchRestore(repo, id, log, ct));
            return list;
        });
        // One result per part of each snapshot in the chain; the failures name their files.
        foreach (var g in findings.GroupBy(f => (f.Snapshot, f.Part)))
        {
            var bad = g.Where(f => !f.Passed).ToList();
            var checkedFiles = g.Count(f => f.Message == "checksum ok");
            var message = bad.Count > 0 ? string.Join("; ", bad.Select(f => f.Message))
                : string.Join("; ", g.Where(f => f.Message != "checksum ok").Select(f => f.Message).Prepend(checkedFiles > 0 ? $"{checkedFiles} file(s) checksum ok" : null).Where(m => m is not null));
            WriteObject(new TestResult
            {
                SnapshotId = g.Key.Snapshot, Part = g.Key.Part, Level = Level, Passed = bad.Count == 0, Message = message,
                File = string.Join(", ", (bad.Count > 0 ? bad : g.ToList()).Select(f => f.File).Where(f => f.Length > 0).Distinct()),
            });
        }
        var failed = findings.Where(f => !f.Passed).ToList();
        if (failed.Count > 0)
            WriteError(ToErrorRecord(new Engine.ExoBackupException("ExoBackup.SnapshotVerificationFailed", Engine.ErrorKind.InvalidData,
                $"Snapshot {id} failed {failed.Count} check(s): {string.Join("; ", failed.Take(3).Select(f => f.Message))}", id,
                "Do not rely on this snapshot; take a new full snapshot, and restore from an older one that passes if needed.")));
    }

    /// <summary>Restores each file-tree part into a scratch folder, which checks every file's SHA-256 as it is written.</summary>
    static IEnumerable<VerifyFinding> ScratchRestore(SnapshotRepository repo, string id, Engine.IOperationLog log, CancellationToken ct)
    {
        var snapshot = repo.Get(id, includeIncomplete: false);
        var scratch = Path.Combine(Path.GetTempPath(), $"exobackup-test-{id}-{Environment.ProcessId}");
        var results = new List<VerifyFinding>();
        try
        {
            foreach (var component in snapshot.Manifest.Parts.Where(p => p.Details.ContainsKey("index")).Select(p => p.Component).Distinct())
            {
                try
                {
                    var roots = TreeRestore.Run(repo, snapshot, component, new TreeRestoreOptions
                    {
                        TargetFor = prefix => Path.Combine(scratch, component, prefix.Length == 0 ? "root" : prefix.Replace('/', '_')),
                    }, log, ct);
                    results.Add(new VerifyFinding(id, component, "", true, $"restored {roots.Sum(r => r.Files):N0} file(s), {roots.Sum(r => r.Bytes):N0} bytes, every checksum matched"));
                }
                catch (Engine.ExoBackupException e)
                {
                    results.Add(new VerifyFinding(id, component, "", false, e.Message));
                }
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
        }
        return results;
    }
}
