using System.IO.Compression;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

public class PlatformDiscoveryTests : IDisposable
{
    readonly TempDir _dir = new("exo-bundle");
    static readonly Dictionary<string, string> NoEnv = new() { ["HOME"] = "/home/exo" };

    public void Dispose() => _dir.Dispose();

    string Home => _dir.Path;

    void Bundle(string? resources = null, int shutdownPort = 8005) =>
        new TestBundle(_dir, home: "", TestBundle.ServerXml(resources, shutdownPort)).ExoProperties("exo.base.url=http://localhost:8080\n");

    [Fact]
    public void Settings_files_made_to_exhaust_memory_fail_fast_and_cheaply()
    {
        // Finding 2.9: a 120 KB line of 20,000 nested ${…} cost 3.6 GB; a 2.6 MB jar inflating to 2.5 GiB ended in OutOfMemoryException.
        Bundle();
        var nested = string.Concat(Enumerable.Repeat("${A:-", 20_000)) + "x" + new string('}', 20_000);
        _dir.Write("bin/setenv-customize.sh", $"EXO_DATA_DIR=\"{nested}\"\n");
        var before = GC.GetTotalAllocatedBytes(true);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var deep = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv));
        Assert.Equal(("ExoBackup.ConfigurationMalformed", true), (deep.ErrorId, deep.Message.Contains("levels deep")));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.True(GC.GetTotalAllocatedBytes(true) - before < 100 << 20, "allocated under 100 MB");
        File.Delete(Path.Combine(Home, "bin", "setenv-customize.sh"));

        Directory.CreateDirectory(Path.Combine(Home, "lib"));
        using (var zip = System.IO.Compression.ZipFile.Open(Path.Combine(Home, "lib", "plf-edition-service-7.0.0.jar"), System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("conf/platform.properties").Open())
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 64; i++) entry.Write(zeros);
        }
        before = GC.GetTotalAllocatedBytes(true);
        Assert.Contains("platform.properties' is larger than 1 MiB", Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv)).Message);
        Assert.True(GC.GetTotalAllocatedBytes(true) - before < 100 << 20, "allocated under 100 MB");
        File.Delete(Path.Combine(Home, "lib", "plf-edition-service-7.0.0.jar"));

        File.AppendAllText(Path.Combine(Home, "conf", "server.xml"), "<!--" + new string('x', 5 << 20) + "-->");
        Assert.Contains("larger than 4 MiB", Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv)).Message);
    }

    [Fact]
    public void Placeholders_never_take_values_from_the_callers_environment()
    {
        // Finding 2.10: ${VAR} in a datasource URL filled in root's environment (a token into a host name to resolve).
        var name = "EXOBACKUP_TEST_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(name, "s3cret");
        try
        {
            Bundle($$"""
                <Resource name="exo-idm_portal" url="jdbc:postgresql://${{{name}}}.example:5432/exo" username="exo" password="x"/>
                <Resource name="exo-jcr_portal" url="jdbc:postgresql://db:${exo.test.port:5432}/exo" username="exo" password="x"/>
                """);
            var p = PlatformDiscovery.Discover(Home, NoEnv);
            var idm = p.Datasources.Single(d => d.Name == "idm");
            Assert.Equal("${" + name + "}.example", idm.Host);
            Assert.DoesNotContain("s3cret", idm.Url);
            Assert.Equal(5432, p.Datasources.Single(d => d.Name == "jcr").Port); // a default still applies
        }
        finally { Environment.SetEnvironmentVariable(name, null); }
    }

    [Fact]
    public void Defaults_follow_setenv_sh()
    {
        Bundle();
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(Path.Combine(Home, "gatein", "data"), p.Data.DataDir);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "jcr", "values"), p.Data.JcrValues);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "jcr", "index"), p.Data.JcrIndex);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "jcr", "swap"), p.Data.JcrSwap);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "files"), p.Data.Files);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "jta"), p.Data.Jta);
        Assert.Equal(Path.Combine(Home, "gatein", "data", "exoplatform-es"), p.Data.Elasticsearch);
        Assert.Equal(Path.Combine(Home, "gatein", "conf"), p.ConfDir);
        Assert.Equal(Path.Combine(Home, "gatein", "conf", "codec"), p.CodecDir);
        Assert.Equal(Path.Combine(Home, "temp", "catalina.pid"), p.PidFile);
        Assert.Equal(8005, p.ShutdownPort);
        Assert.Equal(8080, p.HttpPort);
        Assert.Null(p.Chat);
        Assert.All(p.Datasources, d => Assert.Equal(DatabaseEngine.Hsqldb, d.Engine));
        Assert.Equal(Path.Combine(Home, "gatein", "data", "hsql", "exo-plf"), p.Datasources[0].Database);
        Assert.Single(p.Datasources.Select(d => d.ServerKey).Distinct());
        Assert.False(p.IsRunning);
    }

    [Fact]
    public void Setenv_customize_wins_over_the_environment_which_wins_over_the_default()
    {
        Bundle();
        var env = new Dictionary<string, string>(NoEnv) { ["EXO_DATA_DIR"] = "/from/env", ["EXO_CONF_DIR"] = "/etc/exo" };
        Assert.Equal("/from/env", PlatformDiscovery.Discover(Home, env).Data.DataDir);
        Assert.Equal("/etc/exo", PlatformDiscovery.Discover(Home, env).ConfDir);
        _dir.Write("bin/setenv-customize.sh", "export EXO_DATA_DIR=\"${HOME}/.eXo-platform/data\"\n");
        Assert.Equal("/home/exo/.eXo-platform/data", PlatformDiscovery.Discover(Home, env).Data.DataDir);
    }

    [Fact]
    public void A_relative_data_dir_is_relative_to_the_bundle()
    {
        Bundle();
        _dir.Write("bin/setenv-customize.sh", "EXO_DATA_DIR=data\n");
        Assert.Equal(Path.Combine(Home, "data"), PlatformDiscovery.Discover(Home, NoEnv).Data.DataDir);
    }

    [Fact]
    public void Jvm_options_in_setenv_customize_set_the_storage_paths()
    {
        Bundle();
        _dir.Write("bin/setenv-customize.sh",
            "EXO_DATA_DIR=/srv/exo\nCATALINA_OPTS=\"$CATALINA_OPTS -Dexo.jcr.index.data.dir=/local/index\"\nCATALINA_PID=/run/exo.pid\n");
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal("/srv/exo", p.Data.DataDir);
        Assert.Equal("/local/index", p.Data.JcrIndex);
        Assert.Equal("/srv/exo/jcr/values", p.Data.JcrValues);
        Assert.Equal("/run/exo.pid", p.PidFile);
        Assert.EndsWith("setenv-customize.sh", p.SetenvFile);
    }

    [Fact]
    public void Data_dir_from_catalina_opts()
    {
        Bundle();
        _dir.Write("bin/setenv-customize.sh", "CATALINA_OPTS=\"${CATALINA_OPTS} -Dexo.data.dir=/mnt/exo-data\"\n");
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal("/mnt/exo-data", p.Data.DataDir);
        Assert.Equal("/mnt/exo-data/files", p.Data.Files);
    }

    [Fact]
    public void Exo_properties_override_storage_paths_and_docker_properties_win_over_it()
    {
        Bundle();
        _dir.Write("gatein/conf/exo.properties",
            "exo.files.storage.dir=${exo.data.dir}/shared/files\nexo.jcr.storage.data.dir=/nfs/values\nexo.jcr.index.data.dir=/local/idx\n");
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(Path.Combine(Home, "gatein", "data") + "/shared/files", p.Data.Files);
        Assert.Equal("/nfs/values", p.Data.JcrValues);
        _dir.Write("gatein/conf/docker.properties", "exo.jcr.storage.data.dir=/srv/exo/jcr/values\n");
        Assert.Equal("/srv/exo/jcr/values", PlatformDiscovery.Discover(Home, NoEnv).Data.JcrValues);
        Assert.Equal("/local/idx", PlatformDiscovery.Discover(Home, NoEnv).Data.JcrIndex);
    }

    [Fact]
    public void Reads_postgresql_datasources_with_escaped_urls_and_keeps_passwords_apart()
    {
        Bundle("""
            <Resource name="exo-idm_portal" url="jdbc:postgresql://pg.local:5433/exo?ssl=false&amp;password=urlpass" username="exo" password="p&amp;ss&quot;w"/>
            <Resource name="exo-jcr_portal" url="jdbc:postgresql://pg.local:5433/exo" username="exo" password="p&amp;ss&quot;w"/>
            <Resource name="exo-jpa_portal" url="jdbc:postgresql://pg.local:5433/exo" username="exo" password="p&amp;ss&quot;w"/>
            """);
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(3, p.Datasources.Count);
        var idm = p.Datasources.Single(d => d.Name == "idm");
        Assert.Equal(DatabaseEngine.PostgreSql, idm.Engine);
        Assert.Equal("pg.local", idm.Host);
        Assert.Equal(5433, idm.Port);
        Assert.Equal("exo", idm.Database);
        Assert.Equal("p&ss\"w", idm.Password);
        Assert.DoesNotContain("urlpass", idm.Url);
        Assert.EndsWith("server.xml:4", idm.Source); // file and line of the Resource
        Assert.Single(p.Datasources.Select(d => d.ServerKey).Distinct());
    }

    [Fact]
    public void Three_separate_databases_give_three_keys()
    {
        Bundle("""
            <Resource name="exo-idm_portal" url="jdbc:mysql://m:3306/exo_idm?autoReconnect=true&amp;characterEncoding=utf8" username="exo" password="x"/>
            <Resource name="exo-jcr_portal" url="jdbc:mysql://m:3306/exo_jcr" username="exo" password="x"/>
            <Resource name="exo-jpa_portal" url="jdbc:mysql://m:3306/exo_jpa" username="exo" password="x"/>
            """);
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(3, p.Datasources.Select(d => d.ServerKey).Distinct().Count());
        Assert.All(p.Datasources, d => Assert.Equal(DatabaseEngine.MySql, d.Engine));
    }

    [Fact]
    public void Datasource_names_come_from_exo_properties()
    {
        Bundle("""
            <Resource name="exo-idm-custom_portal" url="jdbc:sqlserver://sql:1433;databaseName=plf" username="exo" password="x"/>
            <Resource name="exo-jcr_portal" url="jdbc:sqlserver://sql:1433;databaseName=plf" username="exo" password="x"/>
            <Resource name="my-jpa" url="jdbc:sqlserver://sql:1433;databaseName=plf" username="exo" password="x"/>
            """);
        _dir.Write("gatein/conf/exo.properties", "exo.idm.datasource.name=java:/comp/env/exo-idm-custom\nexo.jpa.datasource.name=java:/comp/env/my-jpa_portal\n");
        _dir.Write("conf/server.xml", File.ReadAllText(Path.Combine(Home, "conf", "server.xml")).Replace("name=\"my-jpa\"", "name=\"my-jpa_portal\""));
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(["exo-idm-custom_portal", "exo-jcr_portal", "my-jpa_portal"], p.Datasources.Select(d => d.JndiName));
        Assert.All(p.Datasources, d => Assert.Equal(DatabaseEngine.SqlServer, d.Engine));
    }

    [Fact]
    public void Docker_database_variables_are_used_when_server_xml_has_no_resource()
    {
        Bundle("");
        var env = new Dictionary<string, string>(NoEnv)
        {
            ["EXO_DB_TYPE"] = "pgsql", ["EXO_DB_HOST"] = "db", ["EXO_DB_NAME"] = "exo", ["EXO_DB_USER"] = "exo", ["EXO_DB_PASSWORD"] = "secret",
        };
        var p = PlatformDiscovery.Discover(Home, env);
        Assert.Equal(3, p.Datasources.Count);
        Assert.All(p.Datasources, d => Assert.Equal((DatabaseEngine.PostgreSql, "db", 5432, "exo", "secret"), (d.Engine, d.Host!, d.Port!.Value, d.Database!, d.Password!)));
        Assert.DoesNotContain("secret", p.Datasources[0].Url);
    }

    [Fact]
    public void A_missing_resource_is_a_note_not_an_error()
    {
        Bundle("""<Resource name="exo-idm_portal" url="jdbc:postgresql://h/exo" username="exo" password="x"/>""");
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Single(p.Datasources);
        Assert.Contains(p.Notes, n => n.Contains("exo-jcr_portal"));
    }

    [Fact]
    public void Reads_chat_properties_with_a_host_list()
    {
        Bundle();
        _dir.Write("gatein/conf/chat.properties",
            "dbServerType=mongo\ndbServerHosts=mongo1:27017, mongo2:27018\ndbName=exochat\ndbAuthentication=true\ndbUser=chat\ndbPassword=chat:pass\nadminDatabase=auth\n");
        var c = PlatformDiscovery.Discover(Home, NoEnv).Chat!;
        Assert.Equal(["mongo1:27017", "mongo2:27018"], c.Hosts);
        Assert.Equal("exochat", c.Database);
        Assert.True(c.Authentication);
        Assert.Equal("auth", c.AuthenticationDatabase);
        Assert.Equal("chat", c.User);
        Assert.Equal("chat:pass", c.Password);
    }

    [Fact]
    public void Reads_the_deprecated_chat_host_and_port_and_the_defaults()
    {
        Bundle();
        _dir.Write("gatein/conf/chat.properties", "dbServerHost=oldmongo\ndbServerPort=27999\n");
        var c = PlatformDiscovery.Discover(Home, NoEnv).Chat!;
        Assert.Equal(["oldmongo:27999"], c.Hosts);
        Assert.Equal("chat", c.Database);
        Assert.False(c.Authentication);
        _dir.Write("gatein/conf/chat.properties", "chatPassPhrase=x\n");
        Assert.Equal(["localhost:27017"], PlatformDiscovery.Discover(Home, NoEnv).Chat!.Hosts);
    }

    [Fact]
    public void Docker_mongo_variables_describe_chat()
    {
        Bundle();
        var env = new Dictionary<string, string>(NoEnv) { ["EXO_MONGO_HOST"] = "mongo", ["EXO_MONGO_USERNAME"] = "-", ["EXO_MONGO_DB_NAME"] = "chat" };
        var c = PlatformDiscovery.Discover(Home, env).Chat!;
        Assert.Equal(["mongo:27017"], c.Hosts);
        Assert.False(c.Authentication);
    }

    [Fact]
    public void Version_comes_from_the_edition_service_jar_or_jar_names()
    {
        Bundle();
        Directory.CreateDirectory(Path.Combine(Home, "lib"));
        File.WriteAllText(Path.Combine(Home, "lib", "plf-api-6.1.0.jar"), "");
        Assert.Equal("6.1.0", PlatformDiscovery.Discover(Home, NoEnv).Version);
        using (var zip = ZipFile.Open(Path.Combine(Home, "lib", "plf-community-edition-service.jar"), ZipArchiveMode.Create))
        using (var w = new StreamWriter(zip.CreateEntry("conf/platform.properties").Open()))
            w.Write("product.name=Meeds\nproduct.version=1.6.2\n");
        var p = PlatformDiscovery.Discover(Home, NoEnv);
        Assert.Equal(("Meeds", "1.6.2"), (p.ProductName, p.Version));
    }

    [Fact]
    public void Not_a_bundle_is_a_clear_error()
    {
        var e = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv));
        Assert.Equal("ExoBackup.NotAnExoBundle", e.ErrorId);
        Assert.Contains("conf/server.xml", e.Message);
        var missing = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Path.Combine(Home, "nope"), NoEnv));
        Assert.Equal("ExoBackup.PlatformNotFound", missing.ErrorId);
    }

    [Fact]
    public void Malformed_server_xml_names_the_file_and_line()
    {
        Bundle();
        _dir.Write("conf/server.xml", "<?xml version=\"1.0\"?>\n<Server port=\"8005\">\n  <GlobalNamingResources>\n</Server>\n");
        var e = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv));
        Assert.Equal("ExoBackup.ConfigurationMalformed", e.ErrorId);
        Assert.Contains("server.xml", e.Message);
        Assert.Contains("line 4", e.Message);
    }

    [Fact]
    public void A_shutdown_port_that_is_not_a_number_is_an_error()
    {
        Bundle();
        _dir.Write("conf/server.xml", "<Server port=\"eight\"/>");
        var e = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv));
        Assert.Contains("not a port number", e.Message);
    }

    [Fact]
    public void A_resource_without_url_is_an_error()
    {
        Bundle("""<Resource name="exo-idm_portal" username="exo"/>""");
        var e = Assert.Throws<ExoBackupException>(() => PlatformDiscovery.Discover(Home, NoEnv));
        Assert.Contains("exo-idm_portal", e.Message);
        Assert.Contains("no url", e.Message);
    }

    [Fact]
    public void A_stale_pid_file_means_not_running()
    {
        Bundle();
        // PID 1 is init, never a Tomcat of this bundle; a large unused PID is not alive at all.
        _dir.Write("temp/catalina.pid", "1\n");
        Assert.False(PlatformDiscovery.Discover(Home, NoEnv).IsRunning);
        _dir.Write("temp/catalina.pid", "4194000\n");
        Assert.False(PlatformDiscovery.Discover(Home, NoEnv).IsRunning);
    }
}
