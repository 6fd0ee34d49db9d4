using ExoBackup.Engine.Databases;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Tests;

public class DatabaseTests
{
    [Fact]
    public void Sql_server_names_and_strings_are_quoted()
    {
        Assert.Equal("[exo]]; DROP DATABASE x; --]", SqlServerTsql.Name("exo]; DROP DATABASE x; --"));
        Assert.Equal("N'C:\\bak\\o''brien.bak'", SqlServerTsql.Literal("C:\\bak\\o'brien.bak"));
    }

    [Theory]
    [InlineData(SnapshotType.Full, true, "BACKUP DATABASE [plf] TO DISK = N'/b/plf.bak' WITH COPY_ONLY, CHECKSUM, COMPRESSION, INIT, FORMAT, STATS = 10")]
    [InlineData(SnapshotType.Full, false, "BACKUP DATABASE [plf] TO DISK = N'/b/plf.bak' WITH COPY_ONLY, CHECKSUM, INIT, FORMAT, STATS = 10")]
    [InlineData(SnapshotType.Differential, true, "BACKUP DATABASE [plf] TO DISK = N'/b/plf.bak' WITH DIFFERENTIAL, CHECKSUM, COMPRESSION, INIT, FORMAT, STATS = 10")]
    [InlineData(SnapshotType.Incremental, false, "BACKUP DATABASE [plf] TO DISK = N'/b/plf.bak' WITH DIFFERENTIAL, CHECKSUM, INIT, FORMAT, STATS = 10")]
    public void Sql_server_backup_options_follow_the_snapshot_type(SnapshotType type, bool compression, string expected)
    {
        Assert.Equal(expected, SqlServerTsql.Backup("plf", "/b/plf.bak", type, compression));
        Assert.DoesNotContain("COPY_ONLY", SqlServerTsql.Backup("plf", "/b/plf.bak", SnapshotType.Differential, true));
    }

    [Fact]
    public void Sql_server_restore_moves_each_file_and_replaces()
    {
        var sql = SqlServerTsql.Restore("exo]x", "/b/x.bak", [("plf", "/data/plf.mdf"), ("plf_log", "/data/plf_log.ldf")]);
        Assert.Equal("RESTORE DATABASE [exo]]x] FROM DISK = N'/b/x.bak' WITH REPLACE, CHECKSUM, MOVE N'plf' TO N'/data/plf.mdf', MOVE N'plf_log' TO N'/data/plf_log.ldf', STATS = 10", sql);
        Assert.Equal("RESTORE VERIFYONLY FROM DISK = N'/b/x.bak' WITH CHECKSUM", SqlServerTsql.VerifyOnly("/b/x.bak"));
        Assert.Equal("ALTER DATABASE [a] MODIFY NAME = [a_pre]]]", SqlServerTsql.Rename("a", "a_pre]"));
    }

    [Fact]
    public void A_sql_server_connection_carries_the_password_in_sql_credential_only()
    {
        var t = new DatabaseTarget(DatabaseEngine.SqlServer, "127.0.0.1", 1, "plf", "sa", "Very$ecret1", ["jcr"]);
        // Port 1 refuses at once: the error comes from SqlClient, through our description, without the password.
        var e = Assert.Throws<ExoBackupException>(() => SqlServerAdapter.Connect(t).Dispose());
        Assert.Equal("ExoBackup.DatabaseUnreachable", e.ErrorId);
        Assert.DoesNotContain("Very$ecret1", e.Message + e.InnerException);
    }

    [Fact]
    public void A_pgpass_line_escapes_colons_and_backslashes()
    {
        var t = new DatabaseTarget(DatabaseEngine.PostgreSql, "db:host", 5432, "exo", "u\\ser", "pa:ss\\word", ["jcr"]);
        Assert.Equal("db\\:host:5432:exo:u\\\\ser:pa\\:ss\\\\word\n", PostgreSqlAdapter.PgPassLine(t, "exo"));
    }

    [Fact]
    public void A_mysql_option_file_quotes_the_password()
    {
        var t = new DatabaseTarget(DatabaseEngine.MySql, "h", 3306, "exo", "exo", "a\"b\\c#d", ["jcr"]);
        Assert.Contains("password=\"a\\\"b\\\\c#d\"\n", MySqlAdapter.OptionFile(t));
        Assert.StartsWith("[client]\n", MySqlAdapter.OptionFile(t));
    }

    [Theory]
    [InlineData("x\nplugin-dir=/home/exo/lib\ndefault-auth=evil\n#", "password")]
    [InlineData("p\rw", "password")]
    [InlineData("nul\0byte", "password")]
    public void A_control_character_in_a_secret_is_refused_before_any_option_file_is_written(string password, string what)
    {
        // Finding 2.1: a line break in the password added plugin-dir= and default-auth=: root's mariadb-dump loaded a library of the eXo account.
        foreach (var engine in new[] { DatabaseEngine.MySql, DatabaseEngine.PostgreSql })
        {
            var t = new DatabaseTarget(engine, "127.0.0.1", 3306, "exo", "exo", password, ["jcr"]);
            var e = Assert.Throws<ExoBackupException>(() => engine == DatabaseEngine.MySql ? MySqlAdapter.OptionFile(t) : PostgreSqlAdapter.PgPassLine(t, "exo"));
            Assert.Equal("ExoBackup.UnsafeSetting", e.ErrorId);
            Assert.Contains(what, e.Message);
            Assert.DoesNotContain(password, e.Message + e.RecommendedAction);
            Assert.DoesNotContain("plugin-dir", e.Message);
        }
        var user = new DatabaseTarget(DatabaseEngine.MySql, "127.0.0.1", 3306, "exo", "exo\nplugin-dir=/x", "secret", ["jcr"]);
        Assert.Contains("user", Assert.Throws<ExoBackupException>(() => MySqlAdapter.OptionFile(user)).Message);
        var host = new DatabaseTarget(DatabaseEngine.MySql, "db\ndefault-auth=evil", 3306, "exo", "exo", "secret", ["jcr"]);
        Assert.Contains("host", Assert.Throws<ExoBackupException>(() => MySqlAdapter.OptionFile(host)).Message);
        var chat = new Chat.ChatTarget(["127.0.0.1:27017"], "chat", "exo", "pw\nuri: mongodb://elsewhere/", "admin");
        Assert.Equal("ExoBackup.UnsafeSetting", Assert.Throws<ExoBackupException>(() => Chat.MongoTools.ConfigYaml(chat)).ErrorId);
    }

    [Theory]
    [InlineData("db", "db", 5432)]
    [InlineData("db:5433", "db", 5433)]
    [InlineData("::1", "::1", 5432)]
    [InlineData("[::1]:5434", "::1", 5434)]
    [InlineData("[fe80::1]", "fe80::1", 5432)]
    public void Server_names_the_host_and_port_including_ipv6(string server, string host, int port)
    {
        var part = new Repository.PartRecord { Component = "Database", Name = "exo" };
        (part.Database.Engine, part.Database.Datasources, part.Database.DatabaseName) = (DatabaseEngine.PostgreSql, ["jcr"], "exo");
        var t = DatabaseBackupService.TargetOf(part, null, server, null, "u", "p");
        Assert.Equal((host, port), (t.Host, t.Port));
    }

    [Fact]
    public void A_tool_failure_quotes_no_secret_and_no_line_of_one()
    {
        // Finding 2.13: the second line of a password came back in "unknown option '--<rest of the password>'".
        var tool = Tools.ExternalTool.Find([], "coreutils", "true");
        var e = tool.Failed(2, "mariadb-dump: unknown option '--Second-Line-Of-It'\nAccess denied for 'exo' using First-Part-9", "First-Part-9\nSecond-Line-Of-It");
        Assert.DoesNotContain("Second-Line-Of-It", e.Message);
        Assert.DoesNotContain("First-Part-9", e.Message);
        Assert.Contains("unknown option '--***'", e.Message);
    }

    [Fact]
    public void Database_names_reach_the_tools_as_names_never_as_options_or_conninfo()
    {
        var odd = new DatabaseTarget(DatabaseEngine.PostgreSql, "h", 5432, "a=b 'c' \\d", "u", "p", ["jcr"]);
        Assert.Equal("dbname='a=b \\'c\\' \\\\d'", PostgreSqlAdapter.DbNameConnInfo(odd));
        foreach (var name in new[] { "--init-command=CREATE USER x", "-h", "" })
            Assert.Equal("ExoBackup.UnsafeSetting", Assert.Throws<ExoBackupException>(() => Tools.OptionFileValue.CheckedArgument(name, "database name", "MySql h:3306/x")).ErrorId);
        Assert.Equal("exo-prod", Tools.OptionFileValue.CheckedArgument("exo-prod", "database name", "x"));
    }

    [Fact]
    public void Datasources_that_share_a_database_make_one_target_and_embedded_ones_none()
    {
        DatasourceInfo Ds(string name, DatabaseEngine e, string db, string host = "pg") => new(name, $"exo-{name}_portal", e, host, 5432, db, "exo", "pw", "url", null, "server.xml:1");
        var shared = DatabaseTarget.From([Ds("idm", DatabaseEngine.PostgreSql, "exo"), Ds("jcr", DatabaseEngine.PostgreSql, "exo"), Ds("jpa", DatabaseEngine.PostgreSql, "exo")], null, null);
        Assert.Single(shared);
        Assert.Equal(["idm", "jcr", "jpa"], shared[0].Datasources);
        var split = DatabaseTarget.From([Ds("idm", DatabaseEngine.PostgreSql, "exo", "a"), Ds("jcr", DatabaseEngine.PostgreSql, "exo", "b"), Ds("jpa", DatabaseEngine.Hsqldb, "/d/hsql/exo")], "admin", "x");
        Assert.Equal(2, split.Count);
        Assert.All(split, t => Assert.Equal(("admin", "x"), (t.User, t.Password)));
        Assert.Equal("exo-a-5432", DatabaseEngines.PartName(split[0], split));
        Assert.Equal("exo", DatabaseEngines.PartName(shared[0], shared));
    }

    [Fact]
    public void Oracle_is_refused_with_what_to_use()
    {
        var e = Assert.Throws<ExoBackupException>(() => DatabaseEngines.For(DatabaseEngine.Oracle));
        Assert.Equal("ExoBackup.NotSupported", e.ErrorId);
        Assert.Contains("RMAN", e.RecommendedAction);
    }

    [Fact]
    public void A_kept_postgresql_name_fits_63_bytes()
    {
        var kept = DatabaseEngines.KeptName(new string('d', 60), "20261126T101500Z", 63);
        Assert.True(kept.Length <= 63);
        Assert.EndsWith("_pre_restore_20261126t101500z", kept);
    }
}
