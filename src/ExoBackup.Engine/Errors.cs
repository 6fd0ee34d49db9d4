using System.Xml;

namespace ExoBackup.Engine;

/// <summary>
/// Every error the engine and the module raise, one factory a situation: each fixes its id, its
/// kind and what the admin can do about it (the README's table of errors lists the ids); the call
/// gives what is particular to it, the message or what the message is made of. A factory's name
/// starts with the short name of its id; an id with several situations has a factory for each
/// (ChainBroken, ChainBrokenParent, ChainBrokenIndex). Messages never hold secrets.
/// </summary>
public static class Errors
{
    // --- The platform and its settings ---

    /// <summary>The path given as a platform does not exist.</summary>
    public static ExoBackupException PlatformNotFound(string home) =>
        new("ExoBackup.PlatformNotFound", ErrorKind.ObjectNotFound, $"'{home}' does not exist.", home,
            "Give the folder of an eXo Tomcat bundle (the one holding start_eXo.sh and conf/server.xml).");

    /// <summary>The folder lacks what every eXo Tomcat bundle has (<paramref name="missing"/>).</summary>
    public static ExoBackupException NotAnExoBundle(string home, IEnumerable<string> missing) =>
        new("ExoBackup.NotAnExoBundle", ErrorKind.InvalidArgument,
            $"'{home}' is not an eXo Tomcat bundle: {string.Join(" and ", missing)} not found.", home,
            "Give the bundle's root folder (platform-<version>/ in the zip, /opt/exo in the Docker image).");

    /// <summary>server.xml is not well-formed XML.</summary>
    public static ExoBackupException ConfigurationMalformedXml(string file, XmlException e) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"'{file}' is not well-formed XML (line {e.LineNumber}, position {e.LinePosition}): {e.Message}", file,
            "Fix the XML (Tomcat would not start with it either), or point -Platform at the right bundle.", e);

    /// <summary>server.xml's root is not Tomcat's &lt;Server&gt;.</summary>
    public static ExoBackupException ConfigurationMalformedRoot(string file, string? found, int line) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"'{file}' has no <Server> root element (found <{found}>, line {line}); expected Tomcat's server.xml.", file,
            "Point -Platform at an eXo Tomcat bundle whose conf/server.xml is Tomcat's.");

    /// <summary>server.xml's shutdown port is not a number.</summary>
    public static ExoBackupException ConfigurationMalformedPort(string file, int line, string? port) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"'{file}' line {line}: <Server port=\"{port}\"> is not a port number.", file,
            "Set the shutdown port to a number (Tomcat's default is 8005) or -1 to disable it.");

    /// <summary>An eXo datasource of server.xml has no JDBC URL.</summary>
    public static ExoBackupException ConfigurationMalformedUrl(string file, int line, string jndi) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"'{file}' line {line}: Resource '{jndi}' has no url attribute; expected a JDBC URL such as jdbc:postgresql://host:5432/exo.",
            file, "Give the Resource its url, as eXo's conf/server-<database>.xml samples do.");

    /// <summary>A setting of the bundle makes no valid path (a NUL byte, say).</summary>
    public static ExoBackupException ConfigurationMalformedPath(string home, Exception e) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"A path in the settings of {home} (bin/setenv-customize.*, gatein/conf/*.properties) is not valid: {e.Message}", home,
            "Check EXO_DATA_DIR, EXO_CONF_DIR, CATALINA_PID and the exo.*.dir settings for stray characters.", e);

    /// <summary>A shell setting nests ${…} deeper than the reader follows.</summary>
    public static ExoBackupException ConfigurationMalformedNesting(int maxNesting) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"A shell setting nests ${{…}} more than {maxNesting} levels deep; the shell would take minutes and gigabytes to expand it, so it is not read.", null,
            "Simplify the assignment in bin/setenv-customize.sh (eXo's own settings nest one or two levels).");

    /// <summary>A settings file is far larger than any eXo writes.</summary>
    public static ExoBackupException ConfigurationMalformedSize(string shown, int maxBytes) =>
        new("ExoBackup.ConfigurationMalformed", ErrorKind.InvalidData,
            $"'{shown}' is larger than {maxBytes >> 20} MiB, far more than any eXo settings file: it is not read.", shown,
            "Check what wrote it; eXo's own settings files are a few KiB.");

    /// <summary>A settings file of the bundle cannot be read.</summary>
    public static ExoBackupException ConfigurationUnreadable(string file, Exception e) =>
        new("ExoBackup.ConfigurationUnreadable", ErrorKind.ReadError, $"Cannot read '{file}': {e.Message}", file,
            "Check that the file exists and that this account may read it.", e);

    /// <summary>A value bound for a tool's option file holds a control character (it could add options of its own).</summary>
    public static ExoBackupException UnsafeSetting(string what, string owner) =>
        new("ExoBackup.UnsafeSetting", ErrorKind.InvalidData,
            $"The {what} for {owner} contains a control character (a line break, NUL, …): written into the tool's option file it could add options of its own, so nothing was run. The value is not shown.",
            owner, $"Set a {what} without control characters, in the server and where eXo reads it (server.xml, chat.properties), or give one with -Credential.");

    /// <summary>A name given to a tool as an argument is empty or would read as an option.</summary>
    public static ExoBackupException UnsafeSettingOption(string what, string owner) =>
        new("ExoBackup.UnsafeSetting", ErrorKind.InvalidData,
            $"The {what} for {owner} is empty or starts with '-': a tool would read it as an option, so nothing was run.",
            owner, $"Check the {what} in server.xml, chat.properties or -Database.");

    /// <summary>As root, a tool (or what it links to, or their folder) belongs to another account or can be written by others.</summary>
    public static ExoBackupException UnsafeTool(string candidate, string path, int uid, int mode) =>
        new("ExoBackup.UnsafeTool", ErrorKind.PermissionDenied,
            $"'{candidate}' is not run: '{path}' belongs to uid {uid} or can be written by others (mode {Convert.ToString(mode & 0xFFF, 8)}), so another account could change what root runs.",
            candidate, "Install the tool where only root can write (Debian's packages do), or chown and chmod go-w what -ToolPath names.");

    /// <summary>A start or setenv script belongs to a third account (neither root nor the one eXo runs as).</summary>
    public static ExoBackupException UnsafeScriptOwner(string path, int uid, string account, string accountName) =>
        new("ExoBackup.UnsafeScriptOwner", ErrorKind.PermissionDenied,
            $"'{path}' belongs to uid {uid}, neither root nor {account}: starting eXo would run code of a third account.", path,
            $"Give it to root or to {accountName} (chown), after checking what it holds.");

    /// <summary>A start or setenv script can be written by its group or by anyone.</summary>
    public static ExoBackupException UnsafeScriptOwnerWritable(string path, int mode) =>
        new("ExoBackup.UnsafeScriptOwner", ErrorKind.PermissionDenied,
            $"'{path}' can be written by its group or by anyone (mode {Convert.ToString(mode & 0xFFF, 8)}): another account could put code in it.", path,
            $"chmod go-w '{path}'.");

    /// <summary>As root, the bundle belongs to root: eXo would run as root.</summary>
    public static ExoBackupException BundleOwnedByRoot(string home) =>
        new("ExoBackup.BundleOwnedByRoot", ErrorKind.PermissionDenied,
            $"{home} belongs to root: eXo would run as root, with the rights to change anything on this machine.", home,
            "Give the bundle to the account eXo runs as (chown -R exo: " + home + "), or name that account with -RunAs; -RunAs root accepts running eXo as root.");

    /// <summary>-RunAs names no account.</summary>
    public static ExoBackupException RunAsNotFound(string runAs) =>
        new("ExoBackup.RunAsNotFound", ErrorKind.ObjectNotFound, $"There is no account '{runAs}' on this machine.", runAs,
            "Give the name or uid of the account eXo runs as (getent passwd lists them).");

    /// <summary>-RunAs names another account, and only root may run eXo as another account.</summary>
    public static ExoBackupException RunAsNotAllowed(string account, string home) =>
        new("ExoBackup.RunAsNotAllowed", ErrorKind.PermissionDenied, $"Only root can run eXo as {account}.", home,
            "Run ExoBackup as root, or leave -RunAs out to run eXo as yourself.");

    /// <summary>A restore target from the bundle's settings is reached through a link another account owns.</summary>
    public static ExoBackupException UnsafeRestoreTargetLink(string target, string link, int linkUid) =>
        new("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied,
            $"'{target}' is reached through '{link}', a link of uid {linkUid}, which could point anywhere; nothing was changed.",
            target, "Point the bundle's settings at the real folder, or name it yourself with -DataDir.");

    /// <summary>A restore target from the bundle's settings (or the folder it goes in) does not belong to the bundle's owner.</summary>
    public static ExoBackupException UnsafeRestoreTarget(string target, int uid, int ownerUid) =>
        new("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied,
            $"'{target}' (or the folder it would be created in) belongs to uid {uid}, not to the bundle's owner (uid {ownerUid}): the bundle's settings name it, and the eXo account writes those settings, so it is not replaced. Nothing was changed.",
            target, "Check EXO_DATA_DIR, EXO_CONF_DIR and exo.properties; to restore there anyway, give the folder to the eXo account, or name it yourself with -DataDir.");

    /// <summary>A restore target (or its staging folder) in another account's folder changed while the restore ran (<paramref name="what"/>).</summary>
    public static ExoBackupException UnsafeRestoreTargetChanged(string path, string what) =>
        new("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied, $"'{path}' {what}", path,
            "The folder it is in belongs to another account, which changed it while the restore ran: find out what did, then restore again.");

    /// <summary>An -Include restore meets a link in the live tree (before any file is written, or <paramref name="during"/> the writing).</summary>
    public static ExoBackupException UnsafeRestoreTargetLiveLink(string path, bool during) =>
        new("ExoBackup.UnsafeRestoreTarget", ErrorKind.PermissionDenied,
            $"'{path}' is a link, which could point anywhere: an -Include restore writes through no link of the live tree; {(during ? "the files before it were restored, none through it" : "nothing was restored")}.",
            path, "Put the folder the link stands for in its place (or remove the link) and restore again, or restore the whole tree without -Include.");

    /// <summary>MySQL: the user may not create the staging database a restore needs.</summary>
    public static ExoBackupException InsufficientPrivilegeMySql(string message, string target, Exception inner) =>
        new("ExoBackup.InsufficientPrivilege", ErrorKind.PermissionDenied, message, target,
            "Give -Credential of an account with CREATE, DROP, ALTER and INSERT on *.* (root, or a DBA account); eXo's grants on its database keep applying to the restored tables.", inner);

    /// <summary>PostgreSQL: the role lacks <paramref name="missing"/> (CREATEDB, or membership of eXo's role <paramref name="owner"/>).</summary>
    public static ExoBackupException InsufficientPrivilegePostgreSql(string user, string target, string missing, string owner) =>
        new("ExoBackup.InsufficientPrivilege", ErrorKind.PermissionDenied,
            $"{user} may not restore {target}: it lacks {missing}. Nothing was changed.", target,
            $"Give -Credential of a role that has it, such as postgres or a DBA role with CREATEDB that is a member of '{owner}' (GRANT \"{owner}\" TO dba); eXo's user stays the owner of everything restored.");

    /// <summary>The platform has no datasource for a database part and no -Server was given.</summary>
    public static ExoBackupException DatabaseTargetUnknown(string message, string partKey) =>
        new("ExoBackup.DatabaseTargetUnknown", ErrorKind.ObjectNotFound, message, partKey,
            "Give -Platform, the bundle whose server.xml names the server, or -Server host[:port] with -Credential.");

    /// <summary>A collection of the snapshot is missing from the staging collections after a chat restore.</summary>
    public static ExoBackupException ChatRestoreIncomplete(string message, string target) =>
        new("ExoBackup.ChatRestoreIncomplete", ErrorKind.InvalidData, message, target,
            "Run mongorestore by hand on the snapshot's chat folder to see why, or restore with -ChatMethod Driver.");

    /// <summary>The repository's file system can keep two writers apart neither by a hard link nor by an exclusive rename.</summary>
    public static ExoBackupException RepositoryLockUnsupported(string newPath) =>
        new("ExoBackup.RepositoryLockUnsupported", ErrorKind.NotImplemented,
            $"The file system of '{Path.GetDirectoryName(newPath)}' has neither hard links nor an exclusive rename: two writers could not be kept apart.",
            newPath, "Keep the repository on a local Linux file system (ext4, xfs, btrfs) or on NFS.");

    // --- Stopping and starting eXo ---

    /// <summary>eXo did not stop within the timeout and -Kill was not given.</summary>
    public static ExoBackupException StopTimeout(string home, int? pid, TimeSpan timeout) =>
        new("ExoBackup.StopTimeout", ErrorKind.OperationTimeout,
            $"eXo at {home} (PID {pid}) did not stop within {timeout.TotalSeconds:0} s.", home,
            "Give it more time with -Timeout, or use -Kill to kill it after the timeout.");

    /// <summary>eXo's process survived SIGKILL.</summary>
    public static ExoBackupException StopFailed(string home, int? pid) =>
        new("ExoBackup.StopFailed", ErrorKind.InvalidOperation, $"PID {pid} of eXo at {home} survived SIGKILL.", home,
            "Check the process with ps; it may be stuck in the kernel (state D).");

    /// <summary>Another process holds eXo's HTTP port.</summary>
    public static ExoBackupException PortInUse(string home, int port) =>
        new("ExoBackup.PortInUse", ErrorKind.ResourceBusy,
            $"Port {port} (the HTTP connector in conf/server.xml) is already in use by another process; eXo at {home} could not listen on it.",
            home, $"Find the process with 'ss -ltnp sport = :{port}' and stop it, or change the port in conf/server.xml.");

    /// <summary>The bundle has no start script.</summary>
    public static ExoBackupException StartScriptNotFound(string script) =>
        new("ExoBackup.StartScriptNotFound", ErrorKind.ObjectNotFound, $"'{script}' not found.", script,
            "eXo bundles keep start_eXo.sh/.bat at their root; check -Platform.");

    /// <summary>The start script could not be run at all.</summary>
    public static ExoBackupException StartFailedLaunch(string script, string home) =>
        new("ExoBackup.StartFailed", ErrorKind.InvalidOperation, $"Could not run {script}.", home,
            "Run it by hand to see why.");

    /// <summary>The start script did not return (it backgrounds eXo and returns at once).</summary>
    public static ExoBackupException StartFailedTimeout(string script, string home) =>
        new("ExoBackup.StartFailed", ErrorKind.OperationTimeout, $"{script} --background did not return within 60 s.", home,
            "Run it by hand to see what it waits for.");

    /// <summary>The start script failed, or eXo exited during startup (the message quotes the end of its output or log).</summary>
    public static ExoBackupException StartFailed(string message, string home) =>
        new("ExoBackup.StartFailed", ErrorKind.InvalidOperation, message, home,
            "Read logs/catalina.out and logs/platform.log and fix what they report.");

    /// <summary>eXo did not log "Server startup in" within the timeout.</summary>
    public static ExoBackupException StartTimeout(string message, string home) =>
        new("ExoBackup.StartTimeout", ErrorKind.OperationTimeout, message, home,
            "Wait longer with -Timeout (eXo often needs 2–3 minutes), or read logs/platform.log.");

    /// <summary>-NoRestart without -StopPlatform.</summary>
    public static ExoBackupException InvalidParameterCombinationNoRestart() =>
        new("ExoBackup.InvalidParameterCombination", ErrorKind.InvalidArgument,
            "-NoRestart leaves eXo stopped after a backup that stopped it: it needs -StopPlatform.", null,
            "Add -StopPlatform (eXo stopped for the backup and left stopped), or leave out -NoRestart.");

    /// <summary>Several platforms given to one backup are not the nodes of one cluster (or one keeps HSQLDB in its data dir).</summary>
    public static ExoBackupException NotOneCluster(string message, string home) =>
        new("ExoBackup.NotOneCluster", ErrorKind.InvalidArgument, message, home,
            "Back up each platform with a Backup-ExoPlatform of its own; give several platforms only for the nodes of one cluster (the same databases, chat and shared JCR values and files folders).");

    // --- The repository and its snapshots ---

    /// <summary>There is no repository at the path.</summary>
    public static ExoBackupException RepositoryNotFound(string root, string markerFile) =>
        new("ExoBackup.RepositoryNotFound", ErrorKind.ObjectNotFound,
            $"'{root}' is not an ExoBackup repository (no {markerFile}).", root, "Check the path, or create the repository with New-ExoSnapshot.");

    /// <summary>The path given as a repository is a file.</summary>
    public static ExoBackupException RepositoryNotFoundFile(string root) =>
        new("ExoBackup.RepositoryNotFound", ErrorKind.ObjectNotFound, $"'{root}' is a file; a repository is a folder.", root,
            "Give the repository's folder (or a new one), not a file in it.");

    /// <summary>A repository would be created in a folder that holds something else.</summary>
    public static ExoBackupException RepositoryNotEmpty(string root) =>
        new("ExoBackup.RepositoryNotEmpty", ErrorKind.InvalidArgument,
            $"'{root}' is not empty and is not an ExoBackup repository; a repository needs a folder of its own.", root, "Give an empty or new folder.");

    /// <summary>The repository lies in the <paramref name="what"/> (<paramref name="folder"/>) the snapshot backs up.</summary>
    public static ExoBackupException RepositoryInsideBundle(string root, string what, string folder) =>
        new("ExoBackup.RepositoryInsideBundle", ErrorKind.InvalidArgument,
            $"The repository '{root}' lies in the {what} {folder}, which the snapshot backs up: each backup would hold the ones before it, and a restore would replace the repository.",
            root, "Keep the repository outside the bundle's data and configuration, ideally on another disk (DESIGN: a separated and dedicated storage).");

    /// <summary>Another live process (<paramref name="holder"/>) writes the repository.</summary>
    public static ExoBackupException RepositoryLocked(string root, string holder, string lockFile) =>
        new("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy,
            $"The repository '{root}' is being written by {holder}.", root,
            "Wait until that backup ends. If you are sure no backup runs, remove the lock file " + lockFile + ".");

    /// <summary>The lock changed hands at every attempt to take it.</summary>
    public static ExoBackupException RepositoryLockedRace(string root) =>
        new("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy, $"Could not lock the repository '{root}'.", root, "Try again.");

    /// <summary>Another live process (<paramref name="holder"/>) writes the snapshot to remove or complete.</summary>
    public static ExoBackupException RepositoryLockedSnapshot(string id, string holder) =>
        new("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy, $"Snapshot {id} is being written by {holder}.", id,
            "Let that backup end first.");

    /// <summary>The repository is locked for another snapshot than the one to complete.</summary>
    public static ExoBackupException RepositoryLockedOther(string id, string holder) =>
        new("ExoBackup.RepositoryLocked", ErrorKind.ResourceBusy,
            $"The repository is locked for another snapshot ({holder}); {id} cannot be completed now.", id,
            "Complete or remove the snapshot that holds the lock first.");

    /// <summary>The lock's process is gone (or the lock cannot be read); -BreakLock breaks it.</summary>
    public static ExoBackupException RepositoryLockStale(string root, string holder) =>
        new("ExoBackup.RepositoryLockStale", ErrorKind.ResourceBusy,
            $"The repository '{root}' is locked by a process that no longer runs ({holder}).", root,
            "Make sure no backup runs there, then use New-ExoSnapshot -BreakLock (or Backup-ExoPlatform -BreakLock) to break the stale lock; its unfinished snapshot stays as .partial until Remove-ExoSnapshot -IncompleteOlderThan removes it.");

    /// <summary>This session already has a snapshot open in the repository.</summary>
    public static ExoBackupException SnapshotStillOpen(string snapshot, string root) =>
        new("ExoBackup.SnapshotStillOpen", ErrorKind.ResourceBusy, $"Snapshot {snapshot} is still open in this session.", root,
            "Complete it with Complete-ExoSnapshot, or abandon it with Remove-ExoSnapshot, or use New-ExoSnapshot -BreakLock to abandon it.");

    /// <summary>The repository has no snapshot of that id (among the complete ones only, unless <paramref name="includeIncomplete"/>).</summary>
    public static ExoBackupException SnapshotNotFound(string id, string root, bool includeIncomplete = true) =>
        new("ExoBackup.SnapshotNotFound", ErrorKind.ObjectNotFound, $"No snapshot '{id}' in the repository '{root}'.", id,
            includeIncomplete ? "List the snapshots with Get-ExoSnapshot -IncludeIncomplete." : "List the snapshots with Get-ExoSnapshot (-IncludeIncomplete also lists unfinished ones).");

    /// <summary>The repository has no open snapshot of that id to add a part to.</summary>
    public static ExoBackupException SnapshotNotFoundOpen(string id, string root) =>
        new("ExoBackup.SnapshotNotFound", ErrorKind.ObjectNotFound, $"No open snapshot '{id}' in '{root}'.", id,
            "Open one with New-ExoSnapshot.");

    /// <summary>The snapshot is complete: it takes no more parts.</summary>
    public static ExoBackupException SnapshotComplete(string id) =>
        new("ExoBackup.SnapshotComplete", ErrorKind.InvalidOperation, $"Snapshot {id} is already complete; it cannot take more parts.", id,
            "Open a new snapshot with New-ExoSnapshot.");

    /// <summary>The snapshot to complete has no parts.</summary>
    public static ExoBackupException SnapshotEmpty(string id) =>
        new("ExoBackup.SnapshotEmpty", ErrorKind.InvalidOperation, $"Snapshot {id} has no parts yet.", id,
            "Back up at least one part (Backup-ExoDataDir, Backup-ExoConfiguration, …) before completing it.");

    /// <summary>A part of the snapshot to complete ran while eXo ran, or saw a file change.</summary>
    public static ExoBackupException SnapshotOnline(string message, string id) =>
        new("ExoBackup.SnapshotOnline", ErrorKind.InvalidOperation, message, id,
            "Stop eXo and take the parts again, or accept an online snapshot with Complete-ExoSnapshot -AllowOnline.");

    /// <summary>The configuration folder Get-ExoPlatform resolved does not exist.</summary>
    public static ExoBackupException ConfDirNotFound(string confDir, string home) =>
        new("ExoBackup.ConfDirNotFound", ErrorKind.ObjectNotFound, $"The configuration folder '{confDir}' of {home} does not exist.", confDir,
            "Check EXO_CONF_DIR in bin/setenv-customize.sh.");

    /// <summary>The data dir Get-ExoPlatform resolved does not exist.</summary>
    public static ExoBackupException DataDirNotFound(string dataDir, string home) =>
        new("ExoBackup.DataDirNotFound", ErrorKind.ObjectNotFound, $"The data dir '{dataDir}' of {home} does not exist.", dataDir,
            "Check EXO_DATA_DIR in bin/setenv-customize.sh (Get-ExoPlatform shows where it was read from).");

    /// <summary>Files a backup must read cannot be read; -SkipUnreadable records them instead.</summary>
    public static ExoBackupException SourceUnreadable(string message, string path, Exception? inner) =>
        new("ExoBackup.SourceUnreadable", ErrorKind.ReadError, message, path,
            "Give this account read access (eXo's files are usually owned by the exo user), or use -SkipUnreadable to record them in the part and go on.", inner);

    /// <summary>A disk filled up while a command other than a part's backup wrote (a restore, say).</summary>
    public static ExoBackupException DiskFull(IOException e) =>
        new("ExoBackup.DiskFull", ErrorKind.WriteError, e.Message, null,
            "Free space on that disk and run the command again; nothing was replaced.", e);

    /// <summary>The repository's disk filled up while a part was written; the part's files are removed.</summary>
    public static ExoBackupException DiskFullPart(string snapshotId, string snapshotPath, IOException e) =>
        new("ExoBackup.DiskFull", ErrorKind.WriteError, WritingFailed(snapshotId, e), snapshotPath,
            "Free space in the repository (Remove-ExoSnapshot applies retention), then take the part again.", e);

    /// <summary>Another I/O failure, in a command other than a part's backup.</summary>
    public static ExoBackupException IOError(IOException e) =>
        new("ExoBackup.IOError", ErrorKind.WriteError, e.Message, null,
            "Check the disk and the permissions, then run the command again.", e);

    /// <summary>Another I/O failure while a part was written; the part's files are removed.</summary>
    public static ExoBackupException IOErrorPart(string snapshotId, string snapshotPath, IOException e) =>
        new("ExoBackup.IOError", ErrorKind.WriteError, WritingFailed(snapshotId, e), snapshotPath,
            "Check the repository's disk and permissions, then take the part again.", e);

    static string WritingFailed(string snapshotId, IOException e) => $"Writing snapshot {snapshotId} failed: {e.Message}";

    /// <summary>The chain a restore reads has a missing or damaged link (named in the message).</summary>
    public static ExoBackupException ChainBroken(string message, string snapshotId) =>
        new("ExoBackup.ChainBroken", ErrorKind.InvalidData, message, snapshotId,
            "Restore an older snapshot whose chain is whole (Test-ExoSnapshot tells which).");

    /// <summary>The parent an incremental backup would build on has a missing or damaged link.</summary>
    public static ExoBackupException ChainBrokenParent(string snapshotId, string parentId, string broken) =>
        new("ExoBackup.ChainBroken", ErrorKind.InvalidData, $"The parent of {snapshotId} cannot be used: {broken}.", parentId,
            "Take a full snapshot (New-ExoSnapshot -Type Full).");

    /// <summary>An index places files in a snapshot outside the chain of the one restored.</summary>
    public static ExoBackupException ChainBrokenIndex(string snapshotId) =>
        new("ExoBackup.ChainBroken", ErrorKind.InvalidData, $"The index places files in snapshot {snapshotId}, which is not in the chain.", snapshotId,
            "Test the snapshot with Test-ExoSnapshot.");

    /// <summary>A snapshot or an archive failed verification before or during a restore; nothing was replaced.</summary>
    public static ExoBackupException ChecksumMismatch(string message, string target, Exception? inner = null) =>
        new("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData, message, target,
            "Run Test-ExoSnapshot for the details, and restore an older snapshot that passes.", inner);

    /// <summary>A file extracted from an archive is not what its index says (size or checksum).</summary>
    public static ExoBackupException ChecksumMismatchEntry(string message, string archivePath) =>
        new("ExoBackup.ChecksumMismatch", ErrorKind.InvalidData, message, archivePath,
            "The archive or its index is damaged or was altered: Test-ExoSnapshot -Level Archive shows the extent; restore another snapshot.");

    /// <summary>An index holds a line that is not a valid entry.</summary>
    public static ExoBackupException IndexCorrupt(string file, int line, string what, Exception? inner = null) =>
        new("ExoBackup.IndexCorrupt", ErrorKind.InvalidData, $"The index '{file}' is damaged at line {line}: {what}.", file, TestThisSnapshot, inner);

    /// <summary>An index cannot be read (its compression or its file is damaged).</summary>
    public static ExoBackupException IndexCorruptUnreadable(string file, int line, Exception e) =>
        new("ExoBackup.IndexCorrupt", ErrorKind.InvalidData, $"The index '{file}' cannot be read (line {line}): {e.Message}", file, TestThisSnapshot, e);

    const string TestThisSnapshot = "Run Test-ExoSnapshot on this snapshot; restore from another snapshot if it fails.";

    /// <summary>An archive entry would land outside the target, or is of a kind ExoBackup never stores.</summary>
    public static ExoBackupException UnsafeArchiveEntry(string path, string why) =>
        new("ExoBackup.UnsafeArchiveEntry", ErrorKind.InvalidData, $"Refusing to restore '{path}': it {why}.", path,
            "The snapshot was not written by ExoBackup or has been tampered with; restore another snapshot.");

    /// <summary>A restore while eXo runs.</summary>
    public static ExoBackupException PlatformRunning(string home, int? pid) =>
        new("ExoBackup.PlatformRunning", ErrorKind.InvalidOperation,
            $"eXo at {home} is running (PID {pid}); a restore under a running eXo would corrupt it.", home,
            "Stop it first: Stop-ExoPlatform " + home);

    /// <summary>A backup while eXo runs, without -StopPlatform or -AllowOnline.</summary>
    public static ExoBackupException PlatformRunningBackup(string message, string home) =>
        new("ExoBackup.PlatformRunning", ErrorKind.InvalidOperation, message, home,
            "Add -StopPlatform to stop it for the backup and start it again after, or -AllowOnline to accept an online snapshot.");

    /// <summary>The embedded HSQLDB is captured only with eXo stopped.</summary>
    public static ExoBackupException PlatformRunningHsqldb(string home) =>
        new("ExoBackup.PlatformRunning", ErrorKind.InvalidOperation,
            $"The embedded HSQLDB of {home} can only be captured with eXo stopped.", home, "Stop-ExoPlatform first.");

    /// <summary>The snapshot has no part of that component; <paramref name="held"/> names the ones it has, where known.</summary>
    public static ExoBackupException PartNotFound(string snapshotId, string component, IEnumerable<string>? held = null) =>
        new("ExoBackup.PartNotFound", ErrorKind.ObjectNotFound, $"Snapshot {snapshotId} has no {component} part.", snapshotId,
            (held is null ? "" : $"It holds: {string.Join(", ", held)}. ") + "Pick a snapshot that holds it (Get-ExoSnapshot shows the parts).");

    /// <summary>Removing a snapshot others depend on.</summary>
    public static ExoBackupException SnapshotHasDependents(string id, IEnumerable<string> dependents) =>
        new("ExoBackup.SnapshotHasDependents", ErrorKind.InvalidOperation,
            $"Snapshot {id} cannot be removed: {string.Join(", ", dependents)} depend(s) on it.", id,
            "Remove the dependent snapshots first (newest first), or use a retention policy, which keeps chains whole.");

    // --- Scheduled runbooks ---

    /// <summary>A -Name that cannot name a systemd unit.</summary>
    public static ExoBackupException InvalidArgumentUnitName(string name) =>
        new("ExoBackup.InvalidArgument", ErrorKind.InvalidArgument,
            $"'{name}' cannot name a systemd unit here: letters, digits, '_', '.' and '-' only.", name, "Give a -Name such as exobackup-nightly.");

    /// <summary>A calendar event of several lines (each would add lines to the timer).</summary>
    public static ExoBackupException InvalidArgumentCalendar(string onCalendar) =>
        new("ExoBackup.InvalidArgument", ErrorKind.InvalidArgument,
            "The calendar event holds a control character.", onCalendar, "Give one line, such as '*-*-* 02:15:00'.");

    /// <summary>A runbook argument of several lines (each would add lines to the unit).</summary>
    public static ExoBackupException InvalidArgumentRunbookLine() =>
        new("ExoBackup.InvalidArgument", ErrorKind.InvalidArgument,
            "A runbook argument holds a control character (a line break would add lines to the unit).", null, "Give each argument on one line.");

    /// <summary>The runbook to schedule does not exist.</summary>
    public static ExoBackupException ScriptNotFound(string script) =>
        new("ExoBackup.ScriptNotFound", ErrorKind.ObjectNotFound, $"The runbook '{script}' does not exist.", script,
            "Give the path of a runbook, such as a copy of examples/Invoke-NightlyBackup.ps1.");

    /// <summary>As root, the runbook to schedule (or a folder above it) could be changed by another account (<paramref name="why"/>).</summary>
    public static ExoBackupException UnsafeScriptOwnerRunbook(string script, string why) =>
        new("ExoBackup.UnsafeScriptOwner", ErrorKind.PermissionDenied,
            $"The runbook '{script}' would run as root every night, but {why}: another account could change what root runs.", script,
            "Keep the runbook where only root can write (for example /usr/local/sbin or /etc/exobackup), owned by root, mode 0755 or 0700.");

    // --- Databases and tools ---

    /// <summary>The database server does not answer; <paramref name="check"/> adds what to check for its engine.</summary>
    public static ExoBackupException DatabaseUnreachable(string message, string target, Exception inner, string? check = null) =>
        new("ExoBackup.DatabaseUnreachable", ErrorKind.ConnectionError, message, target,
            $"Check that the server runs and that this host may connect{(check is null ? "" : $" ({check})")}.", inner);

    /// <summary>The chat's MongoDB does not answer.</summary>
    public static ExoBackupException DatabaseUnreachableChat(string message, string target, Exception inner) =>
        new("ExoBackup.DatabaseUnreachable", ErrorKind.ConnectionError, message, target,
            "Check dbServerHosts in gatein/conf/chat.properties and that MongoDB runs.", inner);

    /// <summary>The database server refused the datasource's user or password (never echoed).</summary>
    public static ExoBackupException DatabaseAuthenticationFailed(string message, string target, Exception inner) =>
        new("ExoBackup.DatabaseAuthenticationFailed", ErrorKind.AuthenticationError, message, target,
            "Check the username and password of the datasource in conf/server.xml, or give -Credential.", inner);

    /// <summary>The chat's MongoDB refused its user or password (never echoed).</summary>
    public static ExoBackupException DatabaseAuthenticationFailedChat(string message, string target, Exception inner) =>
        new("ExoBackup.DatabaseAuthenticationFailed", ErrorKind.AuthenticationError, message, target,
            "Check dbUser and dbPassword in gatein/conf/chat.properties, or give -Credential.", inner);

    /// <summary>The server has no such database.</summary>
    public static ExoBackupException DatabaseNotFound(string message, string target, Exception inner) =>
        new("ExoBackup.DatabaseNotFound", ErrorKind.ObjectNotFound, message, target, "Check the datasource URL in conf/server.xml.", inner);

    /// <summary>Sessions are connected to a database a restore would replace.</summary>
    public static ExoBackupException DatabaseInUse(string target, long sessions) =>
        new("ExoBackup.DatabaseInUse", ErrorKind.ResourceBusy, $"{sessions} session(s) are connected to {target}; it cannot be replaced.", target,
            "Stop eXo on every node (and other clients) first.");

    /// <summary>A MySQL database holds views, routines or events, which cannot move between databases.</summary>
    public static ExoBackupException RestoreUnsupported(string message, string target) =>
        new("ExoBackup.RestoreUnsupported", ErrorKind.NotImplemented, message, target,
            "eXo's schemas hold none: restore this dump by hand (README, 'Restoring by hand') after checking where they come from.");

    /// <summary>Any other server error, with the server's message.</summary>
    public static ExoBackupException DatabaseError(string message, string target, Exception inner) =>
        new("ExoBackup.DatabaseError", ErrorKind.InvalidOperation, message, target, "Read the server's message; the part was not recorded.", inner);

    /// <summary>None of a tool's names is on PATH or in the -ToolPath folders.</summary>
    public static ExoBackupException ToolNotFound(IReadOnlyList<string> names, IReadOnlyCollection<string> toolPaths, string package) =>
        new("ExoBackup.ToolNotFound", ErrorKind.NotInstalled,
            $"{string.Join(" or ", names)} was not found on PATH{(toolPaths.Count > 0 ? " or in " + string.Join(", ", toolPaths) : "")}.", names[0],
            $"Install it (Debian: apt-get install {package}) or give its folder with -ToolPath.");

    /// <summary>pg_dump is older than the server it should dump.</summary>
    public static ExoBackupException ToolTooOld(string toolPath, Version? version, int serverMajor) =>
        new("ExoBackup.ToolTooOld", ErrorKind.NotInstalled,
            $"{toolPath} is version {version?.ToString() ?? "unknown"}, older than the PostgreSQL {serverMajor} server: it cannot dump it.", toolPath,
            $"Install the client of PostgreSQL {serverMajor} or later (Debian: apt-get install postgresql-client-{serverMajor}, from apt.postgresql.org where Debian lacks it) and give its bin folder with -ToolPath.");

    /// <summary>A tool exited non-zero; <paramref name="stderr"/> has its secrets taken out already.</summary>
    public static ExoBackupException ToolFailed(string name, string toolPath, int code, string stderr) =>
        new("ExoBackup.ToolFailed", ErrorKind.InvalidOperation,
            $"{name} failed (exit code {code}): {(stderr.Length > 1500 ? "…" + stderr[^1500..] : stderr)}", toolPath,
            "Read the tool's message above; the part was not recorded.");

    /// <summary>The client restoring a MySQL dump failed; the database it replaced is kept.</summary>
    public static ExoBackupException ToolFailedRestore(string message, string target) =>
        new("ExoBackup.ToolFailed", ErrorKind.InvalidOperation, message, target,
            "Read the message; the kept database holds the data that was replaced.");

    /// <summary>A dump that exited 0 is empty, cut short, or lacks a table's data.</summary>
    public static ExoBackupException DumpIncomplete(string message, string target, string tool, Exception? inner = null) =>
        new("ExoBackup.DumpIncomplete", ErrorKind.InvalidData, message, target,
            $"Run {tool} by hand to see why, and check the repository's disk; the part was not recorded.", inner);

    /// <summary>pg_restore cannot read a dump of the snapshot.</summary>
    public static ExoBackupException DumpIncompleteUnreadable(string dump, string stderr) =>
        new("ExoBackup.DumpIncomplete", ErrorKind.InvalidData, $"pg_restore cannot read {dump}: {stderr}", dump,
            "The dump is damaged or cut short.");

    /// <summary>Oracle is not backed up by ExoBackup.</summary>
    public static ExoBackupException NotSupportedOracle(object engine) =>
        new("ExoBackup.NotSupported", ErrorKind.NotImplemented, "Oracle databases are not backed up by ExoBackup.", engine,
            "Use Oracle's own tools: RMAN for a physical backup, or Data Pump (expdp) for a logical one.");

    /// <summary>An engine ExoBackup does not know.</summary>
    public static ExoBackupException NotSupported(object engine) =>
        new("ExoBackup.NotSupported", ErrorKind.NotImplemented, $"Databases of engine {engine} cannot be backed up.", engine,
            "Back it up with its own tools.");

    /// <summary>SQL Server writes its backup file itself: it needs -ServerBackupPath.</summary>
    public static ExoBackupException ServerPathRequired(string target) =>
        new("ExoBackup.ServerPathRequired", ErrorKind.InvalidArgument,
            "SQL Server writes its backup file itself: give -ServerBackupPath, a folder the SQL Server service account can write.", target,
            "For example -ServerBackupPath /var/opt/mssql/backup (Linux) or D:\\Backup (Windows); if this machine can read it too, the file is copied into the snapshot.");

    /// <summary>SQL Server's service account may not write to -ServerBackupPath.</summary>
    public static ExoBackupException ServerPathDenied(string message, string target, Exception inner) =>
        new("ExoBackup.ServerPathDenied", ErrorKind.PermissionDenied, message, target,
            "Give the SQL Server service account (NT SERVICE\\MSSQLSERVER, or mssql on Linux) write access to -ServerBackupPath.", inner);

    /// <summary>No datasource of the platform is the one asked for (or it has none).</summary>
    public static ExoBackupException DatasourceNotFound(string home, IReadOnlyCollection<string> asked) =>
        new("ExoBackup.DatasourceNotFound", ErrorKind.ObjectNotFound,
            $"{home} has no datasource {(asked.Count == 0 ? "" : string.Join(", ", asked) + " ")}in conf/server.xml.", home,
            "Get-ExoPlatform lists the datasources it found, and why any is missing (Notes).");

    /// <summary>-Database renames one database, and the snapshot holds several.</summary>
    public static ExoBackupException AmbiguousDatabase(string snapshotId, int databases) =>
        new("ExoBackup.AmbiguousDatabase", ErrorKind.InvalidArgument,
            $"Snapshot {snapshotId} holds {databases} databases; -Database renames only one.", snapshotId, "Restore them one by one with -Datasource.");

    /// <summary>Test-ExoSnapshot found a problem (<paramref name="failures"/>, the first three quoted).</summary>
    public static ExoBackupException SnapshotVerificationFailed(string id, IReadOnlyCollection<string> failures) =>
        new("ExoBackup.SnapshotVerificationFailed", ErrorKind.InvalidData,
            $"Snapshot {id} failed {failures.Count} check(s): {string.Join("; ", failures.Take(3))}", id,
            "Do not rely on this snapshot; take a new full snapshot, and restore from an older one that passes if needed.");

    /// <summary>A file the command needs cannot be opened by the account it runs as.</summary>
    public static ExoBackupException AccessDenied(UnauthorizedAccessException e) =>
        new("ExoBackup.AccessDenied", ErrorKind.PermissionDenied, e.Message, null,
            "Run as an account that may read and write these files (eXo's files usually belong to the exo user).", e);

    /// <summary>The repository was written by another format version.</summary>
    public static ExoBackupException RepositoryVersion(string root, int version) =>
        new("ExoBackup.RepositoryVersion", ErrorKind.InvalidData,
            $"The repository '{root}' has format version {version}; this ExoBackup reads version 1.", root, "Use the ExoBackup version that wrote it.");

    /// <summary>A record of a snapshot (a part, a name its manifest gives) is damaged or forged.</summary>
    public static ExoBackupException RepositoryCorrupt(string message, string target) =>
        new("ExoBackup.RepositoryCorrupt", ErrorKind.InvalidData, message, target,
            "The snapshot is damaged or was altered: run Test-ExoSnapshot, and restore another snapshot or a copy of the repository.");

    /// <summary>The repository's marker file is damaged.</summary>
    public static ExoBackupException RepositoryCorruptMarker(string marker, Exception e) =>
        new("ExoBackup.RepositoryCorrupt", ErrorKind.InvalidData, $"'{marker}' is damaged: {e.Message}", marker,
            "Restore the marker from a copy, or write {\"formatVersion\":1} into it.", e);

    /// <summary>The open snapshot to complete is damaged (<paramref name="problem"/>).</summary>
    public static ExoBackupException RepositoryCorruptOpen(string id, string problem) =>
        new("ExoBackup.RepositoryCorrupt", ErrorKind.InvalidData, $"Snapshot {id} cannot be completed: {problem}.", id,
            "Take the snapshot again (Remove-ExoSnapshot -Id this one, then a new backup): a part it names may be missing or damaged.");

    /// <summary>The snapshot asked for a restore has a manifest that cannot be read or trusted.</summary>
    public static ExoBackupException SnapshotDamaged(string id, string? problem) =>
        new("ExoBackup.SnapshotDamaged", ErrorKind.InvalidData, $"Snapshot {id} is damaged: {problem}", id,
            "Restore another snapshot; Test-ExoSnapshot tells which are whole.");

    /// <summary>Files the index places in an archive are missing from it.</summary>
    public static ExoBackupException ArchiveIncomplete(string message, string archivePath) =>
        new("ExoBackup.ArchiveIncomplete", ErrorKind.InvalidData, message, archivePath, "The archive is damaged: restore another snapshot.");

    /// <summary>A trial restore (Test-ExoSnapshot -Level Restore) needs more room than its scratch folder has.</summary>
    public static ExoBackupException ScratchTooSmall(string snapshotId, string folder, long needed, long free) =>
        new("ExoBackup.ScratchTooSmall", ErrorKind.ResourceUnavailable,
            $"A trial restore of {snapshotId} needs about {Units.Bytes(needed)} in {folder}, which has {Units.Bytes(free)} free. Nothing was written.", folder,
            "Give -ScratchPath on a disk with room (not a small tmpfs such as /tmp often is), or test at -Level Archive, which writes nothing.");

    /// <summary>The staging folder of a restore already exists.</summary>
    public static ExoBackupException RestoreStagingExists(string staging) =>
        new("ExoBackup.RestoreStagingExists", ErrorKind.ResourceBusy, $"'{staging}' already exists (another restore?).", staging,
            "Remove it if no restore runs.");

    /// <summary>Remove-ExoSnapshot without -Id was given no policy.</summary>
    public static ExoBackupException NoRetentionPolicy(string root) =>
        new("ExoBackup.NoRetentionPolicy", ErrorKind.InvalidArgument,
            "Give at least one of -KeepLast, -KeepDaily, -KeepWeekly, -KeepMonthly or -IncompleteOlderThan.", root,
            "For example: -KeepDaily 7 -KeepWeekly 4 -KeepMonthly 6.");

    /// <summary>The bundle has no eXo Chat settings and no -Server was given.</summary>
    public static ExoBackupException ChatNotFound(string home) =>
        new("ExoBackup.ChatNotFound", ErrorKind.ObjectNotFound,
            $"{home} has no eXo Chat: no gatein/conf/chat.properties, no EXO_MONGO_* settings, no exo-chat add-on.", home,
            "Give -Server (and -Database, -Credential) if the chat database lives elsewhere.");

    /// <summary>A datasource's JDBC URL cannot be read (<paramref name="safeUrl"/> has its password taken out).</summary>
    public static ExoBackupException InvalidConnectionString(string safeUrl, Exception e) =>
        new("ExoBackup.InvalidConnectionString", ErrorKind.InvalidData, $"The JDBC URL '{safeUrl}' cannot be read: {e.Message}", safeUrl,
            "Fix the datasource's url in conf/server.xml (see eXo's conf/server-<database>.xml samples).", e);

    /// <summary>A MongoDB connection string given does not start with mongodb:// or mongodb+srv://.</summary>
    public static ExoBackupException InvalidConnectionStringMongoScheme() =>
        new("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument,
            "A MongoDB connection string starts with mongodb:// or mongodb+srv://.", null, $"Give {MongoForm}.");

    /// <summary>A MongoDB connection string given cannot be read; neither it nor the driver's message is shown (they may hold a password).</summary>
    public static ExoBackupException InvalidConnectionStringMongo() =>
        new("ExoBackup.InvalidConnectionString", ErrorKind.InvalidArgument,
            "The MongoDB connection string cannot be read: it names no host, or a part of it is not valid (the string is not shown: it may hold a password).", null,
            $"Give {MongoForm}, with @ : / % in the user name or password percent-encoded, or give them with -Credential.");

    const string MongoForm = "mongodb://[user@]host:port[,host:port]/database[?authSource=admin] or mongodb+srv://[user@]host/database (one host, no port)";

    /// <summary>A SQL Server backup is verified by the server, which Test-ExoSnapshot -Level Archive does not reach.</summary>
    public static ExoBackupException NeedsServer(string partName) =>
        new("ExoBackup.NeedsServer", ErrorKind.NotImplemented,
            "A SQL Server backup is verified by the server (RESTORE VERIFYONLY): use Test-ExoSnapshot -Level Restore with the server reachable.", partName,
            "Run Test-ExoSnapshot -Level Restore where the SQL Server is reachable.");

    /// <summary>The self-check of statx(2) failed at first use: no metadata is read rather than wrong metadata.</summary>
    public static ExoBackupException StatUnusable(string why) =>
        new("ExoBackup.StatUnusable", ErrorKind.NotImplemented,
            $"statx(2) cannot be trusted on this system: {why}. ExoBackup reads no file metadata rather than wrong metadata.",
            null, "Report this with the output of `uname -a` and `ldd --version`.");
}
