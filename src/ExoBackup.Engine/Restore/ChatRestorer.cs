using System.Diagnostics;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

using ExoBackup.Engine.Chat;

namespace ExoBackup.Engine.Restore;

/// <summary>Restores the chat part: checks the server answers at staging, restores at commit (keeping the database it replaces as a dump).</summary>
public sealed class ChatRestorer : IComponentRestorer
{
    public string Component => ChatBackupService.Component;

    public static ChatTarget TargetOf(PartRecord part, RestoreRequest r)
    {
        var chat = r.Platform.Chat;
        var recorded = part.Chat;
        var hosts = r.Server is not null ? r.Server.Split(',') : chat?.Hosts.ToArray() ?? (recorded.Hosts ?? throw part.Missing("hosts")).ToArray();
        var user = r.User ?? (chat is { Authentication: true } ? chat.User : recorded.User);
        var password = r.Password ?? (chat is { Authentication: true } ? chat.Password : null);
        var srv = r.Server is null && chat is null && recorded.IsSrv; // the part's hosts are an SRV name
        return new ChatTarget(hosts, r.ChatDatabase ?? ChatArchive.DatabaseOf(part), user, password,
            chat?.AuthenticationDatabase ?? recorded.AuthenticationDatabase ?? "admin", srv);
    }

    static PartRecord Part(SnapshotEntry s) => s.Manifest.Parts.First(p => p.Component == ChatBackupService.Component);

    public string Describe(SnapshotEntry snapshot, RestoreRequest r)
    {
        var t = TargetOf(Part(snapshot), r);
        return $"Replace {t.Describe()} with the chat dump of {snapshot.Id}" + (r.DiscardReplaced ? ", dropping the database it replaces" : ", keeping the database it replaces as a dump in the repository");
    }

    public IStagedRestore Stage(SnapshotRepository repo, SnapshotEntry snapshot, RestoreRequest r, IOperationLog log, CancellationToken ct)
    {
        var part = Part(snapshot);
        var t = TargetOf(part, r);
        ChatClient.Ping(t, ct); // reachable, and the credentials work
        return new Staged(repo, snapshot, part, t, r, log, ct);
    }

    sealed class Staged(SnapshotRepository repo, SnapshotEntry snapshot, PartRecord part, ChatTarget t, RestoreRequest r, IOperationLog log, CancellationToken ct) : IStagedRestore
    {
        public IReadOnlyList<ComponentRestoreResult> Commit(IOperationLog _)
        {
            var watch = Stopwatch.StartNew();
            var (collections, documents, kept) = ChatRestoreService.Restore(repo, snapshot, part, t, r.ChatMethod, r.ToolPaths, r.DiscardReplaced, r.Stamp, log, ct);
            return [new ComponentRestoreResult(ChatBackupService.Component, t.Describe(), kept, collections, "collections", 0, documents, watch.Elapsed)];
        }

        public void Dispose() { }
    }
}
