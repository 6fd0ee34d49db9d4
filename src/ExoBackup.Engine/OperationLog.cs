namespace ExoBackup.Engine;

/// <summary>One progress report; the module turns it into a ProgressRecord on the pipeline thread.</summary>
public sealed record ProgressUpdate(
    int ActivityId,
    string Activity,
    string Status,
    int PercentComplete = -1,
    int SecondsRemaining = -1,
    int ParentActivityId = -1,
    bool Completed = false);

/// <summary>
/// How the engine tells its caller what it is doing. Implementations must be thread-safe:
/// parallel work reports from several threads.
/// </summary>
public interface IOperationLog
{
    void Verbose(string message);
    void Warning(string message);
    void Progress(ProgressUpdate update);
}

/// <summary>A log that drops everything, for callers that do not care.</summary>
public sealed class NullOperationLog : IOperationLog
{
    public static readonly NullOperationLog Instance = new();
    public void Verbose(string message) { }
    public void Warning(string message) { }
    public void Progress(ProgressUpdate update) { }
}
