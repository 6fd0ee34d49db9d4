<#
The preamble of the Pester files, dot-sourced first thing in a file's BeforeAll:

    BeforeAll { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'snapshot-tests' }
    AfterAll { Clear-TestRoot $Root }

It imports the built module ($env:EXOBACKUP_MODULE) and TestHelpers.psm1, with -Databases
TestDatabases.psm1 too, and sets:
  $Support   tests/Support (New-ExoSampleBundle.ps1, the stand-ins, the test servers)
  $StandIns  tests/Support/StandIns: the stand-in pg_dump, mysqldump, mongodump ... that record their input
  $NoBackup  the folders of the sample data dir that no backup takes (for Get-TreeState -Exclude)
  $Root      with -Name: <temp>/exo-<Name>-<PID>, created; the file's AfterAll removes it
and defines New-Bundle and Invoke-Backup (below). Dot-sourced into BeforeAll, these variables and
functions are the container's, as if the file had written them there itself: its Describe, Context
and It blocks see them, and a file's own variables and functions go on beside them.

In BeforeDiscovery, -Discovery only sets what -Skip needs to know of the machine, and nothing else:

    BeforeDiscovery { . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Discovery }
    Describe 'On a real Tomcat' -Skip:$NoTomcat { ... }

  $NoTomcat    Debian's Tomcat 10 is missing (the sample bundle runs on it)
  $NoPostgres  PostgreSQL's server binaries are missing (TestDatabases.psm1 Start-TestPostgres)
  $NoMariaDb   the MariaDB server or mariadb-dump is missing (Start-TestMariaDb)
#>
param(
    # The test root's middle name: $Root is <temp>/exo-<Name>-<PID>. None: no $Root.
    [string] $Name,
    # Also import TestDatabases.psm1 (private PostgreSQL and MariaDB servers, the MongoDB test server).
    [switch] $Databases,
    # In BeforeDiscovery: only $NoTomcat, $NoPostgres and $NoMariaDb.
    [switch] $Discovery
)

if ($Discovery) {
    $NoTomcat = -not (Test-Path '/usr/share/tomcat10/bin/catalina.sh')
    $NoPostgres = -not (Get-ChildItem '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore)
    $NoMariaDb = -not ((Test-Path /usr/sbin/mariadbd) -and (Get-Command mariadb-dump -ErrorAction Ignore))
}
else {
    Import-Module $env:EXOBACKUP_MODULE -Force
    Import-Module (Join-Path $env:EXOBACKUP_TESTS 'Support/TestHelpers.psm1') -Force
    if ($Databases) { Import-Module (Join-Path $env:EXOBACKUP_TESTS 'Support/TestDatabases.psm1') -Force }
    $Support = Join-Path $env:EXOBACKUP_TESTS 'Support'
    $StandIns = Join-Path $Support 'StandIns'
    $NoBackup = @('jcr/swap', 'jta')
    if ($Name) {
        $Root = Join-Path ([System.IO.Path]::GetTempPath()) "exo-$Name-$PID"
        New-Item -ItemType Directory -Force $Root | Out-Null
    }

    function New-Bundle([string] $Name) {
        <#
        A sample bundle in $Root/<Name>: tests/Support/New-ExoSampleBundle.ps1 -Path $Root/<Name>, every
        other parameter passed on as given (-FileCount 5 -LargeFileCount 0 -Database PostgreSql ...).
        #>
        & "$Support/New-ExoSampleBundle.ps1" -Path "$Root/$Name" @args
    }

    function Invoke-Backup($Bundle, [string] $Repo, [string] $Type = 'Full') {
        <# A snapshot of a bundle's data dir and configuration, completed: the composed runbook in one call. #>
        $s = New-ExoSnapshot -Repository $Repo -Platform $Bundle.Home -Type $Type
        $null = $s | Backup-ExoDataDir
        $null = $s | Backup-ExoConfiguration
        $s | Complete-ExoSnapshot
    }
}
# A dot-sourced script's parameters are variables of the caller's scope: leave none behind.
Remove-Variable Name, Databases, Discovery
