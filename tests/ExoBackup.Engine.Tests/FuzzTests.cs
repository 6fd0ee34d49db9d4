using ExoBackup.Engine.Restore;
using System.Text;
using ExoBackup.Engine.Archive;
using ExoBackup.Engine.Platform;
using ExoBackup.Engine.Repository;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// Thousands of mutated settings files, manifests and indexes: each read either works or ends in a
/// clear ExoBackupException, never another exception and never a hang.
/// </summary>
public class FuzzTests : IDisposable
{
    readonly TempDir _dir = new("exo-fuzz");
    public void Dispose() => _dir.Dispose();

    static string Mutate(string s, Random r)
    {
        var sb = new StringBuilder(s);
        var edits = r.Next(1, 4);
        for (var i = 0; i < edits && sb.Length > 0; i++)
        {
            var pos = r.Next(sb.Length);
            switch (r.Next(6))
            {
                case 0: sb[pos] = (char)r.Next(0, 128); break;                         // a random ASCII char, control chars included
                case 1: sb.Remove(pos, Math.Min(r.Next(1, 20), sb.Length - pos)); break; // a cut
                case 2: sb.Insert(pos, "<>\"'&${}%=:;\\\0\n"[r.Next(15)]); break;        // a meaningful character
                case 3: sb.Length = pos; break;                                         // truncation
                case 4: var start = r.Next(sb.Length); sb.Insert(pos, sb.ToString(start, Math.Min(10, sb.Length - start))); break; // duplication
                default: sb[pos] = (char)r.Next(0x80, 0x3000); break;                  // non-ASCII
            }
        }
        return sb.ToString();
    }

    static void Survives(Action read, string what)
    {
        var task = Task.Run(read);
        try
        {
            Assert.True(task.Wait(TimeSpan.FromSeconds(10)), $"{what}: the read hung");
        }
        catch (AggregateException e) when (e.InnerException is ExoBackupException) { }
        catch (AggregateException e)
        {
            Assert.Fail($"{what}: {e.InnerException!.GetType().Name}: {e.InnerException.Message}");
        }
    }

    TestBundle Bundle() => new TestBundle(_dir, serverXml: ServerXml)
        .ExoProperties("exo.jcr.storage.data.dir=${exo.data.dir}/jcr/values\nexo.jpa.datasource.name=java:/comp/env/exo-jpa_portal\n")
        .ChatProperties("dbServerHosts=m1:27017,m2:27018\ndbName=chat\ndbAuthentication=true\ndbUser=chat\ndbPassword=x\n")
        .SetenvCustomize("export EXO_DATA_DIR=\"${HOME}/data\"\nCATALINA_OPTS=\"$CATALINA_OPTS -Dexo.files.storage.dir=/srv/files\"\n[ -z $X ] && X=${Y:-z}\n");

    const string ServerXml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Server port="8005" shutdown="SHUTDOWN">
          <GlobalNamingResources>
            <Resource name="exo-idm_portal" url="jdbc:postgresql://h:5432/exo?ssl=true&amp;x=1" username="exo" password="p&amp;w"/>
            <Resource name="exo-jcr_portal" url="jdbc:mysql://h:3306/exo?autoReconnect=true" username="exo" password="p"/>
            <Resource name="exo-jpa_portal" url="jdbc:sqlserver://h:1433;databaseName=plf" username="exo" password="p"/>
          </GlobalNamingResources>
          <Service name="Catalina"><Connector port="8080" protocol="HTTP/1.1"/><Engine name="Catalina"/></Service>
        </Server>
        """;

    [Theory]
    [InlineData("exo/conf/server.xml", 1)]
    [InlineData("exo/gatein/conf/exo.properties", 2)]
    [InlineData("exo/gatein/conf/chat.properties", 3)]
    [InlineData("exo/bin/setenv-customize.sh", 4)]
    public void Mutated_settings_files_give_a_platform_or_a_clear_error(string file, int seed)
    {
        Bundle();
        var original = File.ReadAllText(Path.Combine(_dir.Path, file));
        var r = new Random(seed);
        var env = new Dictionary<string, string> { ["HOME"] = "/home/exo" };
        for (var i = 0; i < 1000; i++)
        {
            var mutated = Mutate(original, r);
            File.WriteAllText(Path.Combine(_dir.Path, file), mutated);
            Survives(() => PlatformDiscovery.Discover(Path.Combine(_dir.Path, "exo"), env), $"{file} #{i}: {mutated}");
        }
    }

    [Theory]
    [InlineData("jdbc:postgresql://h:5432/exo", 5)]
    [InlineData("jdbc:oracle:thin:@h:1521:SID", 6)]
    [InlineData("jdbc:sqlserver://h\\inst:1433;databaseName=x;portNumber=1", 7)]
    public void Mutated_jdbc_urls_parse_or_say_unknown(string url, int seed)
    {
        var r = new Random(seed);
        for (var i = 0; i < 2000; i++)
        {
            var mutated = Mutate(url, r);
            var target = JdbcUrl.Parse(mutated);
            Assert.NotNull(target.SafeUrl);
        }
    }

    [Fact]
    public void Mutated_manifests_and_indexes_are_damaged_snapshots_not_crashes()
    {
        var bundle = Bundle();
        File.Delete(Path.Combine(bundle.Home, "bin/setenv-customize.sh"));
        var p = bundle.DataFile("files/a.txt", "a").DataFile("files/b/c.txt", "c").Discover("/home/exo");
        var repo = SnapshotRepository.Open(Path.Combine(_dir.Path, "repo"), true);
        var s = repo.Begin(SnapshotType.Full, p, false, NullOperationLog.Instance);
        PartRunner.Run(repo, s, () => false, () => PlatformFilesBackupService.BackupDataDir(repo, s, p, new DataDirOptions(), NullOperationLog.Instance, default), NullOperationLog.Instance);
        var done = repo.Complete(s.Id, false, NullOperationLog.Instance);
        var manifestPath = Path.Combine(done.Path, "manifest.json");
        var manifest = File.ReadAllText(manifestPath);
        var indexPath = Path.Combine(done.Path, "datadir.index.jsonl.zst");
        string index;
        using (var reader = new StreamReader(Compression.OpenRead(indexPath))) index = reader.ReadToEnd();
        var r = new Random(8);
        for (var i = 0; i < 500; i++)
        {
            File.WriteAllText(manifestPath, Mutate(manifest, r));
            Survives(() => repo.List(true), $"manifest #{i}");
            Survives(() => SnapshotVerifier.Verify(repo, done.Id, VerifyLevel.Archive, NullOperationLog.Instance, default), $"verify with manifest #{i}");
        }
        File.WriteAllText(manifestPath, manifest);
        for (var i = 0; i < 500; i++)
        {
            using (var f = File.Create(indexPath))
            using (var z = Compression.Compress(f, CompressionKind.Zstd, 1))
                z.Write(Encoding.UTF8.GetBytes(Mutate(index, r)));
            Survives(() => FileIndex.Read(indexPath), $"index #{i}");
        }
    }
}
