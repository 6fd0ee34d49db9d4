// Reporting: what an unattended run tells the outside: pings a dead man's switch (healthchecks.io's
// convention) and writes a Prometheus textfile for node_exporter. Neither can fail a backup.

using System.Globalization;
using System.Text;
using ExoBackup.Engine.IO;
using ExoBackup.Engine.Runbook;

namespace ExoBackup.Engine.Reporting;

/// <summary>Where a run reports: a ping URL (&lt;url&gt;/start, &lt;url&gt;, &lt;url&gt;/fail) and a textfile for node_exporter's textfile collector.</summary>
public sealed record MonitorOptions
{
    public Uri? PingUrl { get; init; }
    public string? MetricsFile { get; init; }
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public bool IsEmpty => PingUrl is null && MetricsFile is null;
}

/// <summary>
/// Runs the whole-platform backup and reports its start, success or failure. The ping's failure only
/// warns: a monitoring outage must not cost a night's backup (the missing ping is what alerts).
/// The textfile keeps the last success of an earlier run when this one fails, so the alert
/// "no success for 26 h" needs only time() - exobackup_last_success_timestamp_seconds.
/// </summary>
public static class BackupMonitor
{
    static readonly HttpClient Http = new();

    public static PlatformBackupResult Run(PlatformBackupRequest request, MonitorOptions m, IOperationLog log, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        Ping(m, "/start", null, log);
        try
        {
            var result = PlatformBackup.Run(request, log, ct);
            WriteMetrics(m, request, started, result, null, log);
            Ping(m, "", $"snapshot {result.Snapshot.Id}, {result.Snapshot.Manifest.Consistency}, downtime {result.Downtime?.TotalSeconds:0.0} s", log);
            return result;
        }
        catch (Exception e) when (e is ExoBackupException or IOException or OperationCanceledException)
        {
            WriteMetrics(m, request, started, null, e, log);
            Ping(m, "/fail", e is ExoBackupException x ? $"{x.ErrorId}: {x.Message}" : e.Message, log);
            throw;
        }
    }

    static void Ping(MonitorOptions m, string suffix, string? body, IOperationLog log)
    {
        if (m.PingUrl is not { } url) return;
        var target = new Uri(url.AbsoluteUri.TrimEnd('/') + suffix);
        try
        {
            using var cts = new CancellationTokenSource(m.PingTimeout);
            using var content = new StringContent(body ?? "", Encoding.UTF8, "text/plain");
            using var response = Http.PostAsync(target, content, cts.Token).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode) log.Warning($"The ping to {Shown(target)} answered {(int)response.StatusCode}.");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            log.Warning($"The ping to {Shown(target)} failed ({e.Message}); the backup goes on.");
        }
    }

    // A ping URL may carry a secret (healthchecks' UUID, a token): shown without its path and query.
    static string Shown(Uri u) => $"{u.Scheme}://{u.Authority}/…";

    /// <summary>The textfile, written whole (node_exporter must never read half of it), readable by node_exporter's account.</summary>
    static void WriteMetrics(MonitorOptions m, PlatformBackupRequest r, DateTimeOffset started, PlatformBackupResult? result, Exception? failure, IOperationLog log)
    {
        if (m.MetricsFile is not { } file) return;
        var labels = $"repository=\"{Label(r.Repository)}\",platform=\"{Label(r.Platforms[0].Home)}\"";
        var now = DateTimeOffset.UtcNow;
        var lastSuccess = result is not null ? now : ReadLastSuccess(file);
        var sb = new StringBuilder();
        void Gauge(string name, string help, double? value)
        {
            if (value is null) return;
            sb.Append($"# HELP {name} {help}\n# TYPE {name} gauge\n{name}{{{labels}}} {value.Value.ToString("R", CultureInfo.InvariantCulture)}\n");
        }
        Gauge("exobackup_last_run_timestamp_seconds", "When the last run ended (Unix time).", now.ToUnixTimeMilliseconds() / 1000.0);
        Gauge("exobackup_last_run_success", "1 if the last run completed a snapshot, 0 if it failed.", result is not null ? 1 : 0);
        Gauge("exobackup_last_success_timestamp_seconds", "When the last successful run ended (Unix time); kept across failed runs.", lastSuccess?.ToUnixTimeMilliseconds() / 1000.0);
        Gauge("exobackup_last_run_duration_seconds", "How long the last run took.", (now - started).TotalSeconds);
        if (result is not null)
        {
            Gauge("exobackup_last_downtime_seconds", "How long eXo was stopped during the last successful run.", result.Downtime?.TotalSeconds ?? 0);
            Gauge("exobackup_last_snapshot_bytes", "Bytes stored by the last snapshot.", result.Snapshot.Manifest.Parts.Sum(p => p.StoredBytes));
            Gauge("exobackup_last_snapshot_source_bytes", "Bytes read by the last snapshot.", result.Snapshot.Manifest.Parts.Sum(p => p.SourceBytes));
            Gauge("exobackup_last_snapshot_online", "1 if the last snapshot is Online (not consistent), 0 if Offline.", result.Snapshot.Manifest.Consistency == Repository.Consistency.Online ? 1 : 0);
        }
        try
        {
            DurableFile.Write(file, Encoding.UTF8.GetBytes(sb.ToString()),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warning($"The metrics file {file} could not be written ({e.Message}); the backup {(failure is null ? "succeeded" : "failed")} all the same.");
        }
    }

    static DateTimeOffset? ReadLastSuccess(string file)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
                if (line.StartsWith("exobackup_last_success_timestamp_seconds{", StringComparison.Ordinal)
                    && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var t))
                    return DateTimeOffset.FromUnixTimeMilliseconds((long)(t * 1000));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>A label value as the text format wants it: backslash, quote and line break escaped.</summary>
    static string Label(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
