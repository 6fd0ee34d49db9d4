using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

public class JdbcUrlTests
{
    [Theory]
    [InlineData("jdbc:postgresql://localhost:5432/plf", DatabaseEngine.PostgreSql, "localhost", 5432, "plf")]
    [InlineData("jdbc:postgresql://db.example.org/exo?ssl=true", DatabaseEngine.PostgreSql, "db.example.org", 5432, "exo")]
    [InlineData("jdbc:postgresql://pg1:5433,pg2:5433/exo?targetServerType=primary", DatabaseEngine.PostgreSql, "pg1", 5433, "exo")]
    [InlineData("jdbc:edb://localhost:5444/plf", DatabaseEngine.PostgreSql, "localhost", 5444, "plf")]
    [InlineData("jdbc:mysql://localhost:3306/plf?autoReconnect=true&characterEncoding=utf8", DatabaseEngine.MySql, "localhost", 3306, "plf")]
    [InlineData("jdbc:mysql://mysql:3306/exo?autoReconnect=true&useSSL=false&allowPublicKeyRetrieval=true", DatabaseEngine.MySql, "mysql", 3306, "exo")]
    [InlineData("jdbc:mariadb://maria/exo", DatabaseEngine.MySql, "maria", 3306, "exo")]
    [InlineData("jdbc:mysql:loadbalance://m1:3307,m2:3307/exo", DatabaseEngine.MySql, "m1", 3307, "exo")]
    [InlineData("jdbc:sqlserver://localhost:1433;databaseName=plf;sendStringParametersAsUnicode=false", DatabaseEngine.SqlServer, "localhost", 1433, "plf")]
    [InlineData("jdbc:sqlserver://sql01;database=exo", DatabaseEngine.SqlServer, "sql01", 1433, "exo")]
    [InlineData("jdbc:jtds:sqlserver://sql02:1500/exo", DatabaseEngine.SqlServer, "sql02", 1500, "exo")]
    [InlineData("jdbc:oracle:thin:@localhost:1521:plf", DatabaseEngine.Oracle, "localhost", 1521, "plf")]
    [InlineData("jdbc:oracle:thin:@//ora:1522/exo.svc", DatabaseEngine.Oracle, "ora", 1522, "exo.svc")]
    [InlineData("jdbc:oracle:thin://ora:1521/EXO", DatabaseEngine.Oracle, "ora", 1521, "EXO")]
    public void Parses_server_urls(string url, DatabaseEngine engine, string host, int port, string db)
    {
        var t = JdbcUrl.Parse(url);
        Assert.Equal(engine, t.Engine);
        Assert.Equal(host, t.Host);
        Assert.Equal(port, t.Port);
        Assert.Equal(db, t.Database);
    }

    [Fact]
    public void Reads_a_sql_server_named_instance()
    {
        var t = JdbcUrl.Parse("jdbc:sqlserver://sqlhost\\EXO;databaseName=plf");
        Assert.Equal("sqlhost", t.Host);
        Assert.Equal("EXO", t.Instance);
        Assert.Null(t.Port);
    }

    [Theory]
    [InlineData("jdbc:hsqldb:file:${exo.data.dir}/hsql/exo-plf;shutdown=true;hsqldb.write_delay=false;", "${exo.data.dir}/hsql/exo-plf")]
    [InlineData("jdbc:hsqldb:file:/srv/exo/hsql/jcr;shutdown=true", "/srv/exo/hsql/jcr")]
    public void Parses_hsqldb_file_urls(string url, string location)
    {
        var t = JdbcUrl.Parse(url);
        Assert.Equal(DatabaseEngine.Hsqldb, t.Engine);
        Assert.Equal(location, t.Database);
        Assert.Null(t.Host);
    }

    [Fact]
    public void Removes_a_password_from_the_url_and_keeps_it_apart()
    {
        var t = JdbcUrl.Parse("jdbc:postgresql://h/exo?user=exo&password=s3cr%3Bt&ssl=true");
        Assert.Equal("exo", t.UserInUrl);
        Assert.Equal("s3cr;t", t.PasswordInUrl);
        Assert.DoesNotContain("s3cr", t.SafeUrl);
        Assert.Contains("ssl=true", t.SafeUrl);
    }

    [Fact]
    public void An_unknown_url_is_unknown_not_an_error()
    {
        Assert.Equal(DatabaseEngine.Unknown, JdbcUrl.Parse("jdbc:db2://h:50000/exo").Engine);
        Assert.Equal(DatabaseEngine.Unknown, JdbcUrl.Parse("").Engine);
    }

    [Theory]
    [InlineData("jdbc:mysql://exo:Pw-1@db:3306/exo", "exo", "Pw-1", "jdbc:mysql://exo:***@db:3306/exo")]
    [InlineData("jdbc:postgresql://exo:p%40ss@pg:5432/exo", "exo", "p@ss", "jdbc:postgresql://exo:***@pg:5432/exo")]
    [InlineData("jdbc:mysql://address=(host=db)(port=3306)(user=exo)(password=Pw-2)/exo", null, "Pw-2", "jdbc:mysql://address=(host=db)(port=3306)(user=exo)(password=***)/exo")]
    [InlineData("jdbc:mysql://(host=db,port=3306,user=exo,password=Pw-3)/exo", null, "Pw-3", "jdbc:mysql://(host=db,port=3306,user=exo,password=***)/exo")]
    [InlineData("jdbc:oracle:thin:scott/Pw-4@ora:1521:ORCL", "scott", "Pw-4", "jdbc:oracle:thin:scott/***@ora:1521:ORCL")]
    [InlineData("jdbc:postgresql://pg/exo?user=exo&password=Pw-5&ssl=true", "exo", "Pw-5", "jdbc:postgresql://pg/exo?user=exo&password=***&ssl=true")]
    [InlineData("jdbc:sqlserver://sql;databaseName=exo;user=sa;password=Pw-6", "sa", "Pw-6", "jdbc:sqlserver://sql;databaseName=exo;user=sa;password=***")]
    public void No_password_stays_in_the_safe_url(string url, string? user, string password, string safe)
    {
        // Finding 2.11: the user:pw@, (password=…) and Oracle user/pw@ forms reached Url and ConvertTo-Json.
        var t = JdbcUrl.Parse(url);
        Assert.Equal(safe, t.SafeUrl);
        Assert.DoesNotContain(password, t.SafeUrl);
        Assert.Equal(password, t.PasswordInUrl);
        if (user is not null) Assert.Equal(user, t.UserInUrl);
    }

    [Fact]
    public void A_malformed_url_is_a_clear_error_without_its_password()
    {
        var e = Assert.Throws<ExoBackupException>(() => JdbcUrl.Parse("jdbc:postgresql://[::1/exo?password=Pw-7"));
        Assert.Equal("ExoBackup.InvalidConnectionString", e.ErrorId);
        Assert.DoesNotContain("Pw-7", e.Message);
    }
}
