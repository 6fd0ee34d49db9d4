using System.Formats.Tar;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Hashing;
using ExoBackup.Engine.Storage;

using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Restore;

public enum VerifyLevel { Checksum, Archive, Restore }

/// <summary>What a finding is: most are one check with its own message; a matched checksum is one of many, counted.</summary>
public enum FindingKind { Check, ChecksumMatched }

/// <summary>One finding of Test-ExoSnapshot.</summary>
public sealed record VerifyFinding(string Snapshot, string Part, string File, bool Passed, string Message, FindingKind Kind = FindingKind.Check);

/// <summary>The findings of one part of one snapshot, summed up: what Test-ExoSnapshot writes for it.</summary>
public sealed record PartVerdict(string Snapshot, string Part, bool Passed, string Message, string Files);

/// <summary>
/// Checks snapshots: every file against SHA256SUMS and the manifest (Checksum); every archive
/// decompressed and walked against its index (Archive); the chain each depends on. Never throws
/// for damage: every problem becomes a finding that names the snapshot, part and file.
/// </summary>
public static class SnapshotVerifier
{
    public static List<VerifyFinding> Verify(SnapshotRepository repo, string id, VerifyLevel level, IOperationLog log, CancellationToken ct, Func<string, bool>? deferred = null)
    {
        var findings = new List<VerifyFinding>();
        var (chain, broken) = repo.Chain(id);
        if (broken is not null)
            findings.Add(new VerifyFinding(id, "Chain", "", false, $"The chain of {id} is broken: {broken}."));
        if (chain.Count == 0)
        {
            var entry = repo.List(true).FirstOrDefault(s => s.Id == id);
            if (entry is not null && entry.Status == SnapshotStatus.Damaged)
                findings.AddRange(VerifyChecksums(entry, ct));
            return findings;
        }
        foreach (var s in chain)
        {
            ct.ThrowIfCancellationRequested();
            log.Verbose($"Checking {s.Id} ({level}).");
            var checks = VerifyChecksums(s, ct, deferred);
            findings.AddRange(checks);
            if (level >= VerifyLevel.Archive && checks.All(c => c.Passed))
                findings.AddRange(VerifyArchives(s, log, ct));
        }
        return findings;
    }

    /// <param name="deferred">Files whose content the caller checks itself (a restore hashes archives as it extracts them): here only their presence and listing are checked.</param>
    public static List<VerifyFinding> VerifyChecksums(SnapshotEntry s, CancellationToken ct, Func<string, bool>? deferred = null)
    {
        var (id, m) = (s.Id, s.Manifest);
        var findings = new List<VerifyFinding>();
        var listed = new Dictionary<string, string>(StringComparer.Ordinal);
        if (s.Storage.Stat(StorageNames.Join(s.Folder, "SHA256SUMS")) is not { IsFolder: false })
        {
            findings.Add(new VerifyFinding(id, "Snapshot", "SHA256SUMS", false, "SHA256SUMS is missing."));
            return findings;
        }
        using var reader = new StreamReader(s.OpenRead("SHA256SUMS"));
        var lineNo = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNo++;
            var sep = line.IndexOf("  ", StringComparison.Ordinal);
            if (line.Length == 0 || sep != 64 || !line[..64].All(Uri.IsHexDigit) || line[..64].Any(char.IsUpper))
            {
                findings.Add(new VerifyFinding(id, "Snapshot", "SHA256SUMS", false, $"SHA256SUMS line {lineNo} is malformed."));
                continue;
            }
            listed[line[(sep + 2)..]] = line[..64];
        }
        var partOf = m.Parts.SelectMany(p => p.Files.Select(f => (f.Path, Part: p))).GroupBy(x => x.Path).ToDictionary(g => g.Key, g => g.First().Part);
        foreach (var (file, expected) in listed.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            var part = file == "manifest.json" ? "Snapshot" : partOf.TryGetValue(file, out var p) ? p.Key : "Snapshot";
            if (!IsStorageName(file) || s.Storage.Stat(StorageNames.Join(s.Folder, file)) is not { IsFolder: false })
            {
                findings.Add(new VerifyFinding(id, part, file, false, $"{file} is listed in SHA256SUMS but missing."));
                continue;
            }
            var manifestHash = partOf.TryGetValue(file, out var pr) ? pr.Files.First(f => f.Path == file).Sha256 : null;
            if (deferred?.Invoke(file) == true)
            {
                // Read later, hashed then against the manifest: here SHA256SUMS and the manifest must agree.
                findings.Add(manifestHash == expected
                    ? new VerifyFinding(id, part, file, true, "checksum checked while restoring")
                    : new VerifyFinding(id, part, file, false, $"{file}: SHA256SUMS and the manifest disagree on its checksum."));
                continue;
            }
            string actual;
            using (var fs = s.OpenRead(file)) actual = Sha256.Hex(fs);
            if (actual != expected)
                findings.Add(new VerifyFinding(id, part, file, false, $"{file}: checksum mismatch (SHA256SUMS says {expected[..12]}…, the file is {actual[..12]}…)."));
            else if (manifestHash is not null && manifestHash != actual)
                findings.Add(new VerifyFinding(id, part, file, false, $"{file}: the manifest's checksum differs from the file's."));
            else
                findings.Add(new VerifyFinding(id, part, file, true, "checksum ok", FindingKind.ChecksumMatched));
        }
        foreach (var f in s.Storage.ListFiles(s.Folder))
        {
            var rel = f.Name[(s.Folder.Length + 1)..];
            if (rel != "SHA256SUMS" && !listed.ContainsKey(rel))
                findings.Add(new VerifyFinding(id, "Snapshot", rel, false, $"{rel} is not listed in SHA256SUMS."));
        }
        foreach (var pf in partOf.Keys.Where(k => !listed.ContainsKey(k)))
            findings.Add(new VerifyFinding(id, partOf[pf].Key, pf, false, $"{pf} belongs to part {partOf[pf].Key} but is not in SHA256SUMS."));
        if (!listed.ContainsKey("manifest.json"))
            findings.Add(new VerifyFinding(id, "Snapshot", "manifest.json", false, "manifest.json is not covered by SHA256SUMS."));
        findings.AddRange(VerifyDetails(s));
        return findings;
    }

    /// <summary>Every part's details read (a port that is not a number, counts that are not JSON: a damaged or forged record).</summary>
    static IEnumerable<VerifyFinding> VerifyDetails(SnapshotEntry s)
    {
        foreach (var part in s.Manifest.Parts)
        {
            string? problem = null;
            try { _ = part.Details; }
            catch (ExoBackupException e) { problem = e.Message; }
            if (problem is not null) yield return new VerifyFinding(s.Id, part.Key, "manifest.json", false, problem);
        }
    }

    /// <summary>A name SHA256SUMS may list: one that names a file inside the snapshot (a writer of the repository may list "../x").</summary>
    static bool IsStorageName(string file)
    {
        try { StorageNames.Checked(file); return true; }
        catch (ExoBackupException) { return false; }
    }

    /// <summary>Walks each tree archive against its index: every file this snapshot holds is present, of the right size and hash.</summary>
    static IEnumerable<VerifyFinding> VerifyArchives(SnapshotEntry s, IOperationLog log, CancellationToken ct)
    {
        foreach (var part in s.Manifest.Parts)
        {
            if (!part.IsTree || part.Tree is not { Archive: { } archiveName, Index: { } indexName }) continue;
            VerifyFinding result;
            try
            {
                var index = FileIndex.Read(s.OpenRead(indexName), indexName);
                var wanted = index.Entries.Values.Where(e => e.Kind == 'f' && e.Archive == s.Id).ToDictionary(e => e.Path, StringComparer.Ordinal);
                var seen = 0;
                using var stream = Compression.OpenRead(s, archiveName);
                using var reader = new TarReader(stream);
                TarEntry? entry;
                var buffer = new byte[1 << 16];
                while ((entry = reader.GetNextEntry()) is not null)
                {
                    ct.ThrowIfCancellationRequested();
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                    var name = entry.Name;
                    if (!wanted.TryGetValue(name, out var e))
                        throw new InvalidDataException($"the archive holds '{name}', which the index does not place in it");
                    var sha = ContentHash.Create();
                    long size = 0;
                    if (entry.DataStream is not null)
                    {
                        int n;
                        while ((n = entry.DataStream.Read(buffer)) > 0) { sha.Append(buffer.AsSpan(0, n)); size += n; }
                    }
                    var hash = ContentHash.Hex(sha);
                    if (size != e.Size || hash != e.Hash)
                        throw new InvalidDataException($"'{name}' in the archive does not match the index (size {size} vs {e.Size})");
                    seen++;
                }
                if (seen != wanted.Count)
                    throw new InvalidDataException($"the index places {wanted.Count} file(s) in the archive, which holds {seen}");
                result = new VerifyFinding(s.Id, part.Key, archiveName, true, $"{seen} file(s) read and matched the index");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ExoBackupException or FormatException or ZstdSharp.ZstdException or ArgumentException)
            {
                result = new VerifyFinding(s.Id, part.Key, archiveName, false, $"{archiveName}: {e.Message}");
            }
            yield return result;
        }
    }
}
