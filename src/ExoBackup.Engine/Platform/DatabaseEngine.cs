namespace ExoBackup.Engine.Platform;

/// <summary>The database engines eXo can run on, as far as a backup is concerned.</summary>
public enum DatabaseEngine { Unknown, PostgreSql, MySql, SqlServer, Hsqldb, Oracle }
