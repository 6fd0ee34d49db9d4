using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using ExoBackup.Engine;

namespace ExoBackup;

/// <summary>
/// What every ExoBackup cmdlet shares: cancellation on Ctrl+C, running engine work on a worker
/// thread while its verbose, warning and progress messages are written on the pipeline thread,
/// and turning engine errors into ErrorRecords with stable ids.
/// </summary>
public abstract class ExoCmdlet : PSCmdlet, IDisposable
{
    readonly CancellationTokenSource _cancel = new();

    protected CancellationToken Cancellation => _cancel.Token;

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose()
    {
        _cancel.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Resolves a path as PowerShell users expect (relative to $PWD, ~, PSDrives).</summary>
    protected string ResolvePath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>
    /// Runs engine work on a worker thread and pumps its messages here, on the pipeline thread,
    /// where PowerShell requires Write* calls. Engine errors become terminating errors.
    /// </summary>
    internal T RunEngine<T>(Func<IOperationLog, CancellationToken, T> work)
    {
        using var queue = new BlockingCollection<Action>();
        var log = new PipelineLog(queue, this);
        var task = Task.Run(() =>
        {
            try { return work(log, _cancel.Token); }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var action in queue.GetConsumingEnumerable()) action();
        }
        catch
        {
            // The pipeline was stopped (or a write failed): stop the work and wait for it to clean up.
            _cancel.Cancel();
            try { task.Wait(); } catch (AggregateException) { }
            ReportStop(task);
            throw;
        }
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            ReportStop(task);
            throw new PipelineStoppedException();
        }
        catch (ExoBackupException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
            throw; // not reached
        }
        catch (IOException e)
        {
            // An I/O failure the engine did not describe (a full disk during a restore, a vanished mount).
            ThrowTerminatingError(ToErrorRecord(DiskErrors.Failed(e)));
            throw;
        }
        catch (UnauthorizedAccessException e)
        {
            ThrowTerminatingError(ToErrorRecord(Errors.AccessDenied(e)));
            throw;
        }
    }

    /// <summary>
    /// As RunEngine, for work about one input object: its ExoBackup error is written as a
    /// non-terminating error, so the other inputs go on and -ErrorAction decides; false then.
    /// </summary>
    /// <summary>
    /// After Ctrl+C, says what state the work left: completed just before the stop, or what the engine
    /// says its cancellation left. The host, not the pipeline: a stopping pipeline takes no more writes.
    /// </summary>
    void ReportStop(Task task)
    {
        if (!_cancel.IsCancellationRequested) return;
        var said = task.Exception?.InnerException is OperationCanceledException { Message: var m } && m != DefaultCancelMessage ? m : null;
        var state = task.IsCompletedSuccessfully ? "the work had completed just before the stop: its result stands."
            : said ?? "the work was cancelled before it completed.";
        try { Host.UI.WriteWarningLine($"Stopped by Ctrl+C: {state}"); } catch (Exception e) when (e is PipelineStoppedException or InvalidOperationException or NotImplementedException) { }
    }

    static readonly string DefaultCancelMessage = new OperationCanceledException().Message;

    internal bool TryRunEngine<T>(Func<IOperationLog, CancellationToken, T> work, out T result)
    {
        ExoBackupException? failed = null;
        result = RunEngine((log, ct) =>
        {
            try { return work(log, ct); }
            catch (ExoBackupException e) { failed = e; return default!; }
        });
        if (failed is null) return true;
        WriteError(ToErrorRecord(failed));
        return false;
    }

    internal void RunEngine(Action<IOperationLog, CancellationToken> work) =>
        RunEngine<object?>((log, ct) => { work(log, ct); return null; });

    internal static ErrorRecord ToErrorRecord(ExoBackupException e)
    {
        var record = new ErrorRecord(e, e.ErrorId, Category(e.Kind), e.Target);
        if (e.RecommendedAction is not null)
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
        return record;
    }

    internal static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.NotInstalled => ErrorCategory.NotInstalled,
        ErrorKind.ReadError => ErrorCategory.ReadError,
        ErrorKind.WriteError => ErrorCategory.WriteError,
        ErrorKind.ResourceBusy => ErrorCategory.ResourceBusy,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        ErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        ErrorKind.NotImplemented => ErrorCategory.NotImplemented,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        ErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>Collects engine messages from any thread; the pipeline thread writes them. Progress is coalesced.</summary>
    sealed class PipelineLog(BlockingCollection<Action> queue, ExoCmdlet cmdlet) : IOperationLog
    {
        readonly Dictionary<int, ProgressUpdate> _latest = new();
        readonly Dictionary<int, long> _lastWritten = new();
        static readonly long Interval = Stopwatch.Frequency / 5;

        public void Verbose(string message) => Post(() => cmdlet.WriteVerbose(message));

        public void Warning(string message) => Post(() => cmdlet.WriteWarning(message));

        public void Progress(ProgressUpdate update)
        {
            lock (_latest) _latest[update.ActivityId] = update;
            Post(() =>
            {
                lock (_latest)
                {
                    if (!ReferenceEquals(_latest.GetValueOrDefault(update.ActivityId), update)) return; // a newer one is queued
                    var now = Stopwatch.GetTimestamp();
                    if (!update.Completed && now - _lastWritten.GetValueOrDefault(update.ActivityId) < Interval) return;
                    _lastWritten[update.ActivityId] = now;
                }
                var record = new ProgressRecord(update.ActivityId, update.Activity, string.IsNullOrEmpty(update.Status) ? "…" : update.Status)
                {
                    PercentComplete = Math.Clamp(update.PercentComplete, -1, 100),
                    SecondsRemaining = update.SecondsRemaining,
                    ParentActivityId = update.ParentActivityId,
                    RecordType = update.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                };
                cmdlet.WriteProgress(record);
            });
        }

        void Post(Action action)
        {
            // ObjectDisposedException derives from InvalidOperationException: either way the work
            // has finished and a late message is dropped.
            try { queue.TryAdd(action); }
            catch (InvalidOperationException) { }
        }
    }
}
