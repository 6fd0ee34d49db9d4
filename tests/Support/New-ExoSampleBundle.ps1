<#
.SYNOPSIS
Writes an eXo-shaped Tomcat bundle that really starts: Debian's Tomcat 10 runs with the bundle as
CATALINA_BASE, so start_eXo.sh, the PID file, "Server startup in" and the ports are all real.

.DESCRIPTION
The layout follows shared/docs/exo-platform-facts.md: start_eXo.sh/stop_eXo.sh at the root,
bin/setenv.sh sourcing bin/setenv-customize.sh, conf/server.xml with the three exo-*_portal
Resources and the shutdown port, gatein/conf/{exo,chat}.properties, gatein/conf/codec/codeckey.txt,
and a data dir (jcr/{index,values,swap}/<workspace>_portal, files/, jta/, hsql/, optionally
exoplatform-es/) filled with a chosen number of files.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Path,
    [ValidateSet('Hsqldb', 'PostgreSql', 'MySql', 'SqlServer', 'Oracle')] [string] $Database = 'Hsqldb',
    [string] $DatabaseHost = 'localhost',
    [int] $DatabasePort = 0,
    [string] $DatabaseName = 'exo',
    [string] $DatabaseUser = 'exo',
    [string] $DatabasePassword = 'exo',
    # Three databases (exo_idm, exo_jcr, exo_jpa) instead of one shared database.
    [switch] $SeparateDatabases,
    [int] $FileCount = 200,
    [int] $MinFileKB = 1,
    [int] $MaxFileKB = 64,
    [int] $LargeFileCount = 2,
    [int] $LargeFileMB = 2,
    [switch] $Elasticsearch,
    [switch] $Chat,
    [string[]] $ChatHosts = @('localhost:27017'),
    [string] $ChatDatabase = 'chat',
    [string] $ChatUser,
    [string] $ChatPassword,
    [int] $HttpPort = 0,
    [int] $ShutdownPort = 0,
    # Makes the webapp take this long to shut down (a ServletContextListener), to test stop timeouts.
    [int] $StopDelaySeconds = 0,
    [string] $Version = '7.0.0',
    [string] $TomcatHome = '/usr/share/tomcat10',
    [int] $Seed = 42,
    # The eXo account that owns the bundle, as in a real install; run as root the default is nobody,
    # so that Start-ExoPlatform runs eXo as that account. 'root' (or empty) keeps root's.
    [string] $Owner = $(if (-not $IsWindows -and (id -u) -eq '0') { 'nobody' } else { '' })
)
$ErrorActionPreference = 'Stop'

function Get-FreePort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop(); $port
}
function Write-Text([string] $File, [string] $Text, [switch] $Executable) {
    $dir = Split-Path -Parent $File
    if (-not (Test-Path $dir)) { New-Item -ItemType Directory -Force -Path $dir | Out-Null }
    [System.IO.File]::WriteAllText($File, $Text.Replace("`r`n", "`n"))
    if ($Executable -and -not $IsWindows) { chmod 755 $File }
}
# Line breaks and tabs as character references: raw in an attribute, XML would read them as spaces.
function ConvertTo-XmlAttribute([string] $s) { [System.Security.SecurityElement]::Escape($s).Replace("`r", '&#13;').Replace("`n", '&#10;').Replace("`t", '&#9;') }

if (-not ('ExoSample.FileFiller' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.IO;
namespace ExoSample {
    public static class FileFiller {
        // Half of the files compress well (text), half do not (random bytes), like JCR values and indexes.
        public static long Fill(string dir, int count, int minKB, int maxKB, int seed, string prefix) {
            var rnd = new Random(seed);
            long total = 0;
            var text = System.Text.Encoding.ASCII.GetBytes("eXo Platform JCR value, social activity, wiki page, document version. ");
            for (int i = 0; i < count; i++) {
                int size = rnd.Next(minKB * 1024, maxKB * 1024 + 1);
                var buf = new byte[size];
                if (i % 2 == 0) rnd.NextBytes(buf);
                else for (int k = 0; k < size; k++) buf[k] = text[(k + i) % text.Length];
                var sub = Path.Combine(dir, (i % 37).ToString("x2"));
                Directory.CreateDirectory(sub);
                File.WriteAllBytes(Path.Combine(sub, prefix + i.ToString("D6") + ".bin"), buf);
                total += size;
            }
            return total;
        }
        public static void Large(string file, int mb, int seed) {
            var rnd = new Random(seed);
            var buf = new byte[1 << 20];
            using var fs = File.Create(file);
            for (int i = 0; i < mb; i++) {
                if (i % 2 == 0) rnd.NextBytes(buf); else Array.Fill(buf, (byte)(i & 0xff));
                fs.Write(buf, 0, buf.Length);
            }
        }
    }
}
'@
}

if (-not (Test-Path "$TomcatHome/bin/catalina.sh")) {
    throw "Tomcat 10 not found at $TomcatHome (apt-get install tomcat10)."
}
if ($HttpPort -eq 0) { $HttpPort = Get-FreePort }
if ($ShutdownPort -eq 0) { do { $ShutdownPort = Get-FreePort } while ($ShutdownPort -eq $HttpPort) }

$home_ = [System.IO.Path]::GetFullPath($Path)
New-Item -ItemType Directory -Force -Path $home_ | Out-Null
foreach ($d in 'bin', 'conf', 'lib', 'logs', 'temp', 'work', 'webapps/ROOT', 'gatein/conf/portal', 'gatein/conf/codec', 'addons/statuses', 'addons/archives') {
    New-Item -ItemType Directory -Force -Path (Join-Path $home_ $d) | Out-Null
}

# --- scripts at the root and in bin/, as in eXo's packaging (Meeds plf-tomcat-resources) ---
Write-Text "$home_/start_eXo.sh" -Executable @'
#!/bin/bash
# eXo-style launcher: foreground by default, "catalina.sh start" with --background.
PRG="$0"
PRGDIR=$(cd "$(dirname "$PRG")" && pwd)
EXO_RUN_MODE=run
while [ "$1" != "" ]; do
  case "$1" in
    -b|--background) EXO_RUN_MODE=start ;;
    --data) shift; export EXO_DATA_DIR="$1" ;;
    *) ;;
  esac
  shift
done
if [ "$EXO_RUN_MODE" = "start" ]; then
  export CATALINA_PID=${CATALINA_PID:-$PRGDIR/temp/catalina.pid}
fi
exec "$PRGDIR/bin/catalina.sh" $EXO_RUN_MODE
'@
Write-Text "$home_/stop_eXo.sh" -Executable @'
#!/bin/bash
PRGDIR=$(cd "$(dirname "$0")" && pwd)
[ -f "$PRGDIR/temp/catalina.pid" ] && export CATALINA_PID="$PRGDIR/temp/catalina.pid"
while [ "$1" != "" ]; do shift; done
exec "$PRGDIR/bin/catalina.sh" stop "$@"
'@
Write-Text "$home_/bin/catalina.sh" -Executable @"
#!/bin/sh
# The sample bundle runs Debian's Tomcat 10 with this bundle as CATALINA_BASE.
BASE=`$(cd "`$(dirname "`$0")/.." && pwd)
export CATALINA_HOME="$TomcatHome"
export CATALINA_BASE="`$BASE"
exec "$TomcatHome/bin/catalina.sh" "`$@"
"@
Write-Text "$home_/bin/setenv.sh" -Executable @'
#!/bin/sh
# eXo's setenv.sh: the admin's setenv-customize.sh first, then the defaults.
[ -r "$CATALINA_BASE/bin/setenv-customize.sh" ] && . "$CATALINA_BASE/bin/setenv-customize.sh"
[ -z $EXO_CONF_DIR ] && EXO_CONF_DIR="$CATALINA_BASE/gatein/conf"
[ -z $EXO_DATA_DIR ] && EXO_DATA_DIR="$CATALINA_BASE/gatein/data"
[ -z $EXO_JVM_SIZE_MAX ] && EXO_JVM_SIZE_MAX="256m"
[ -z $EXO_JVM_SIZE_MIN ] && EXO_JVM_SIZE_MIN="32m"
CATALINA_OPTS="$CATALINA_OPTS -Xms${EXO_JVM_SIZE_MIN} -Xmx${EXO_JVM_SIZE_MAX} -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
CATALINA_OPTS="$CATALINA_OPTS -Dexo.conf.dir=$EXO_CONF_DIR -Dgatein.conf.dir=$EXO_CONF_DIR"
CATALINA_OPTS="$CATALINA_OPTS -Dexo.data.dir=$EXO_DATA_DIR -Dexo.jcr.data.dir=$EXO_DATA_DIR/jcr"
CATALINA_OPTS="$CATALINA_OPTS -Dexo.jcr.storage.data.dir=$EXO_DATA_DIR/jcr/values -Dexo.jcr.index.data.dir=$EXO_DATA_DIR/jcr/index"
CATALINA_OPTS="$CATALINA_OPTS -Dexo.files.storage.dir=$EXO_DATA_DIR/files"
export CATALINA_OPTS
'@
$stopDelay = if ($StopDelaySeconds -gt 0) { "`nCATALINA_OPTS=`"`$CATALINA_OPTS -Dexo.sample.stopDelaySeconds=$StopDelaySeconds`"" } else { '' }
Write-Text "$home_/bin/setenv-customize.sh" -Executable @"
# setenv-customize.sh: the admin's settings (copied from setenv-customize.sample.sh)
EXO_JVM_SIZE_MAX="256m"
#EXO_DATA_DIR="`${HOME}/.eXo-platform/data"
$stopDelay
"@
Write-Text "$home_/bin/setenv-customize.sample.sh" @'
# Copy this file to setenv-customize.sh and uncomment what you need.
#EXO_DATA_DIR="${HOME}/.eXo-platform/data"
#EXO_CONF_DIR="${HOME}/.eXo-platform/conf"
'@

# --- conf/: Tomcat's files, eXo's server.xml and context.xml ---
foreach ($f in 'web.xml', 'logging.properties', 'catalina.properties') {
    $src = if (Test-Path "/etc/tomcat10/$f") { "/etc/tomcat10/$f" } elseif (Test-Path "$TomcatHome/etc/$f") { "$TomcatHome/etc/$f" } else { $null }
    if ($src) { Copy-Item $src "$home_/conf/$f" }
}
# Keep Tomcat's console lines in catalina.out plain.
if (Test-Path "$home_/conf/logging.properties") {
    (Get-Content "$home_/conf/logging.properties") -replace 'org.apache.juli.SystemdFormatter', 'org.apache.juli.OneLineFormatter' |
        Set-Content "$home_/conf/logging.properties"
}

$names = @{ idm = $DatabaseName; jcr = $DatabaseName; jpa = $DatabaseName }
if ($SeparateDatabases) { $names = @{ idm = "${DatabaseName}_idm"; jcr = "${DatabaseName}_jcr"; jpa = "${DatabaseName}_jpa" } }
function Get-Url([string] $kind) {
    $db = $names[$kind]
    switch ($Database) {
        'Hsqldb' { if ($SeparateDatabases) { "jdbc:hsqldb:file:`${exo.data.dir}/hsql/$kind;shutdown=true;hsqldb.write_delay=false;hsqldb.tx=mvcc;" } else { 'jdbc:hsqldb:file:${exo.data.dir}/hsql/exo-plf;shutdown=true;hsqldb.write_delay=false;hsqldb.tx=mvcc;' } }
        'PostgreSql' { "jdbc:postgresql://${DatabaseHost}:$(if ($DatabasePort) { $DatabasePort } else { 5432 })/$db" }
        'MySql' { "jdbc:mysql://${DatabaseHost}:$(if ($DatabasePort) { $DatabasePort } else { 3306 })/${db}?autoReconnect=true&characterEncoding=utf8" }
        'SqlServer' { "jdbc:sqlserver://${DatabaseHost}:$(if ($DatabasePort) { $DatabasePort } else { 1433 });databaseName=$db;sendStringParametersAsUnicode=false" }
        'Oracle' { "jdbc:oracle:thin:@${DatabaseHost}:$(if ($DatabasePort) { $DatabasePort } else { 1521 }):$db" }
    }
}
$driver = @{ Hsqldb = 'org.hsqldb.jdbc.JDBCDriver'; PostgreSql = 'org.postgresql.Driver'; MySql = 'com.mysql.cj.jdbc.Driver'; SqlServer = 'com.microsoft.sqlserver.jdbc.SQLServerDriver'; Oracle = 'oracle.jdbc.OracleDriver' }[$Database]
$user = if ($Database -eq 'Hsqldb') { 'sa' } else { $DatabaseUser }
$pass = if ($Database -eq 'Hsqldb') { '' } else { $DatabasePassword }
$resources = foreach ($kind in 'idm', 'jcr', 'jpa') {
@"
    <!-- eXo $kind datasource. initialSize="0": the sample has no JDBC driver, so the pool must not connect at startup. -->
    <Resource name="exo-${kind}_portal" auth="Container" type="javax.sql.DataSource"
              factory="org.apache.tomcat.jdbc.pool.DataSourceFactory" initialSize="0" maxActive="20" minIdle="0" maxIdle="5"
              username="$(ConvertTo-XmlAttribute $user)" password="$(ConvertTo-XmlAttribute $pass)"
              driverClassName="$driver" url="$(ConvertTo-XmlAttribute (Get-Url $kind))" />
"@
}
Write-Text "$home_/conf/server.xml" @"
<?xml version="1.0" encoding="UTF-8"?>
<!-- eXo Platform sample bundle: server.xml in the shape of Meeds' server.template.xml -->
<Server port="$ShutdownPort" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.mbeans.GlobalResourcesLifecycleListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <GlobalNamingResources>
$($resources -join "`n")
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector port="$HttpPort" address="127.0.0.1" protocol="org.apache.coyote.http11.Http11NioProtocol"
               connectionTimeout="20000" redirectPort="8443" URIEncoding="UTF-8" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
"@
Write-Text "$home_/conf/context.xml" @'
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <ResourceLink name="exo-idm_portal" global="exo-idm_portal" type="javax.sql.DataSource" />
  <ResourceLink name="exo-jcr_portal" global="exo-jcr_portal" type="javax.sql.DataSource" />
  <ResourceLink name="exo-jpa_portal" global="exo-jpa_portal" type="javax.sql.DataSource" />
</Context>
'@
Write-Text "$home_/conf/jaas.conf" "gatein-domain {`n  org.gatein.sso.integration.SSODelegateLoginModule required;`n};`n"

# --- the webapp: a page, and optionally a listener that delays shutdown ---
Write-Text "$home_/webapps/ROOT/index.html" "<html><body>eXo Platform sample $Version</body></html>`n"
if ($StopDelaySeconds -gt 0) {
    $src = "$home_/work/sample-src/StopDelay.java"
    Write-Text $src @'
package exosample;
public class StopDelay implements jakarta.servlet.ServletContextListener {
    // A webapp that hangs on shutdown and ignores SIGTERM: only a kill stops it.
    public void contextInitialized(jakarta.servlet.ServletContextEvent e) {
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> { });
    }
    public void contextDestroyed(jakarta.servlet.ServletContextEvent e) {
        long s = Long.getLong("exo.sample.stopDelaySeconds", 0L);
        try { Thread.sleep(s * 1000L); } catch (InterruptedException ignored) { }
    }
}
'@
    New-Item -ItemType Directory -Force "$home_/webapps/ROOT/WEB-INF/classes" | Out-Null
    & javac -nowarn -d "$home_/webapps/ROOT/WEB-INF/classes" -cp "$TomcatHome/lib/servlet-api.jar" $src
    if ($LASTEXITCODE -ne 0) { throw "javac failed for the stop-delay listener" }
    Write-Text "$home_/webapps/ROOT/WEB-INF/web.xml" @'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <listener><listener-class>exosample.StopDelay</listener-class></listener>
</web-app>
'@
}

# --- lib/: the edition-service jar that carries the version (conf/platform.properties) ---
$jar = "$home_/lib/plf-community-edition-service.jar"
if (Test-Path $jar) { Remove-Item $jar }
Add-Type -AssemblyName System.IO.Compression, System.IO.Compression.FileSystem
$zip = [System.IO.Compression.ZipFile]::Open($jar, 'Create')
try {
    $entry = $zip.CreateEntry('conf/platform.properties')
    $w = [System.IO.StreamWriter]::new($entry.Open())
    $w.Write("product.name=eXo Platform`nproduct.version=$Version`nproduct.distributionType=community`norg.exoplatform.platform=$Version`n")
    $w.Dispose()
} finally { $zip.Dispose() }

# --- gatein/conf ---
Write-Text "$home_/gatein/conf/exo.properties" @"
# eXo configuration (exo-sample.properties documents every key)
exo.base.url=http://localhost:$HttpPort
exo.jcr.datasource.name=java:/comp/env/exo-jcr
exo.idm.datasource.name=java:/comp/env/exo-idm
exo.jpa.datasource.name=java:/comp/env/exo-jpa_portal
exo.jcr.datasource.dialect=auto
exo.jcr.storage.enabled=true
exo.files.binaries.storage.type=fs
exo.es.embedded.enabled=$(if ($Elasticsearch) { 'true' } else { 'false' })
"@
Write-Text "$home_/gatein/conf/exo-sample.properties" "# sample only`n#exo.base.url=http://localhost:8080`n"
Write-Text "$home_/gatein/conf/configuration.xml" "<?xml version=`"1.0`" encoding=`"UTF-8`"?>`n<configuration/>`n"
Write-Text "$home_/gatein/conf/portal/README" "portal configuration`n"
# codeckey.txt is a JCEKS keystore in a real bundle; the sample holds random bytes of the same size.
$rnd = [System.Random]::new($Seed)
$key = [byte[]]::new(205); $rnd.NextBytes($key)
[System.IO.File]::WriteAllBytes("$home_/gatein/conf/codec/codeckey.txt", $key)
if ($Chat) {
    $chatLines = @("dbServerType=mongo", "dbServerHosts=$($ChatHosts -join ',')", "dbName=$ChatDatabase")
    if ($ChatUser) { $chatLines += @('dbAuthentication=true', "dbUser=$ChatUser", "dbPassword=$ChatPassword", 'adminDatabase=admin') }
    else { $chatLines += 'dbAuthentication=false' }
    $chatLines += 'chatPassPhrase=sample-passphrase'
    Write-Text "$home_/gatein/conf/chat.properties" (($chatLines -join "`n") + "`n")
    Write-Text "$home_/addons/statuses/exo-chat.status" "{`"id`":`"exo-chat`",`"version`":`"$Version`"}`n"
}
Write-Text "$home_/addons/local.json" "[]`n"
Write-Text "$home_/addons/statuses/exo-jcr.status" "{`"id`":`"exo-jcr`",`"version`":`"$Version`"}`n"

# --- the data dir ---
$data = "$home_/gatein/data"
$workspaces = 'system', 'portal-system', 'portal-work', 'collaboration', 'dms-system', 'social', 'knowledge'
$share = [Math]::Max(1, [int]($FileCount / ($workspaces.Count * 2 + 2)))
$i = 0
$total = 0L
foreach ($ws in $workspaces) {
    $total += [ExoSample.FileFiller]::Fill("$data/jcr/values/${ws}_portal", $share, $MinFileKB, $MaxFileKB, $Seed + $i++, 'v')
    $total += [ExoSample.FileFiller]::Fill("$data/jcr/index/${ws}_portal", $share, $MinFileKB, $MaxFileKB, $Seed + $i++, 'i')
    New-Item -ItemType Directory -Force "$data/jcr/swap/${ws}_portal" | Out-Null
    Write-Text "$data/jcr/swap/${ws}_portal/swap-$ws.tmp" "temporary swap data`n"
}
$rest = [Math]::Max(0, $FileCount - $share * $workspaces.Count * 2)
$total += [ExoSample.FileFiller]::Fill("$data/files", $rest, $MinFileKB, $MaxFileKB, $Seed + 100, 'f')
for ($k = 0; $k -lt $LargeFileCount; $k++) {
    New-Item -ItemType Directory -Force "$data/files/large" | Out-Null
    [ExoSample.FileFiller]::Large("$data/files/large/attachment-$k.bin", $LargeFileMB, $Seed + 200 + $k)
}
New-Item -ItemType Directory -Force "$data/jta/ShadowNoFileLockStore/defaultStore" | Out-Null
Write-Text "$data/jta/ShadowNoFileLockStore/defaultStore/README" "Arjuna object store`n"
New-Item -ItemType Directory -Force "$data/files/empty-folder" | Out-Null
if ($Database -eq 'Hsqldb') {
    $dbs = if ($SeparateDatabases) { 'idm', 'jpa', 'jcr' } else { , 'exo-plf' }
    foreach ($db in $dbs) {
        Write-Text "$data/hsql/$db.properties" "#HSQL Database Engine 2.7.2`nversion=2.7.2`nmodified=no`n"
        Write-Text "$data/hsql/$db.script" "SET DATABASE UNIQUE NAME HSQLDB$($db.ToUpper())`nCREATE SCHEMA PUBLIC AUTHORIZATION DBA`nCREATE MEMORY TABLE PUBLIC.SOC_ACTIVITIES(ID BIGINT PRIMARY KEY,TITLE VARCHAR(2000))`nINSERT INTO SOC_ACTIVITIES VALUES(1,'Welcome to eXo')`n"
        Write-Text "$data/hsql/$db.log" ""
    }
}
if ($Elasticsearch) {
    $total += [ExoSample.FileFiller]::Fill("$data/exoplatform-es/nodes/0/indices", [Math]::Max(4, [int]($FileCount / 10)), $MinFileKB, $MaxFileKB, $Seed + 300, 'segment')
}

if ($Owner -and $Owner -ne 'root') {
    & chown -R "${Owner}:" $home_
    if ($LASTEXITCODE) { throw "chown -R ${Owner}: $home_ failed" }
    # The folders above it must let that account reach its bundle (a test root made by root is 0755).
    for ($d = Split-Path -Parent $home_; $d -and $d -ne '/'; $d = Split-Path -Parent $d) {
        if (-not ((Get-Item $d).UnixFileMode -band [System.IO.UnixFileMode]::OtherExecute)) {
            throw "$Owner cannot reach $home_ through $d (no x for others): put the bundle elsewhere, or give -Owner root"
        }
    }
}

[pscustomobject]@{
    PSTypeName   = 'ExoSample.Bundle'
    Home         = $home_
    HttpPort     = $HttpPort
    ShutdownPort = $ShutdownPort
    DataDir      = $data
    Database     = $Database
    Bytes        = $total
}
