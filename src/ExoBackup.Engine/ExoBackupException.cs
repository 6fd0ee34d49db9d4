namespace ExoBackup.Engine;

/// <summary>What kind of failure an engine error is; the module maps it to a PowerShell ErrorCategory.</summary>
public enum ErrorKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    NotInstalled,
    ReadError,
    WriteError,
    ResourceBusy,
    ResourceUnavailable,
    ConnectionError,
    AuthenticationError,
    PermissionDenied,
    InvalidOperation,
    NotImplemented,
    OperationStopped,
    OperationTimeout,
}

/// <summary>
/// A failure the engine knows how to describe: a stable id (ExoBackup.Something), a kind, the
/// object it concerns and what the admin can do about it. Messages never hold secrets.
/// </summary>
public sealed class ExoBackupException : Exception
{
    public ExoBackupException(string errorId, ErrorKind kind, string message, object? target = null,
        string? recommendedAction = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId.StartsWith("ExoBackup.", StringComparison.Ordinal) ? errorId : "ExoBackup." + errorId;
        Kind = kind;
        Target = target;
        RecommendedAction = recommendedAction;
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public object? Target { get; }
    public string? RecommendedAction { get; }
}
