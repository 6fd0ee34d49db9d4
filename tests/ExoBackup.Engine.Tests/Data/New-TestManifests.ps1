<#
.SYNOPSIS
Makes the manifests PartDetailsTests reads, manifest-format1-*.json (run as root; PostgreSQL 15 and
MariaDB installed; after build.ps1 Test, which builds the module and the MongoDB test server).
Real snapshots are taken with the built module: data dir, configuration, PostgreSQL and chat in one,
MariaDB and configuration in the other; their manifest.json are copied here. The files in the
repository were made by the code before part details were typed (commit d04bb44), so that the tests
read manifests as that code wrote them.
#>
$ErrorActionPreference = 'Stop'
$env:EXOBACKUP_TESTS = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
if (-not $env:EXOBACKUP_MODULE) { $env:EXOBACKUP_MODULE = Join-Path $env:EXOBACKUP_TESTS '../out/ExoBackup/ExoBackup.psd1' }
. (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'make-manifests' -Databases
$Pg = $null; $My = $null; $Mongo = $null
try {
    $Pg = Start-TestPostgres -Root "$Root/pg"
    Invoke-TestPostgresSql $Pg 'CREATE DATABASE exo OWNER exo' | Out-Null
    Invoke-TestPostgresSql $Pg "SET ROLE exo; CREATE TABLE jcr_item (id bigint PRIMARY KEY, name text); INSERT INTO jcr_item SELECT g, 'n' || g FROM generate_series(1, 20) g; CREATE SCHEMA jpa; CREATE TABLE jpa.wiki_page (id int PRIMARY KEY); INSERT INTO jpa.wiki_page VALUES (1), (2);" -Database exo | Out-Null
    $Mongo = Start-MongoTestServer -User chat -Password 'chat-pw' -Seed 30
    $b = New-Bundle 'bundle-pg' -Database PostgreSql -DatabaseHost 127.0.0.1 -DatabasePort $Pg.Port -DatabaseName exo -DatabaseUser exo -DatabasePassword $Pg.Password `
        -Chat -ChatHosts "127.0.0.1:$($Mongo.Port)" -ChatDatabase chat -ChatUser chat -ChatPassword 'chat-pw' -FileCount 5 -LargeFileCount 0
    $s = New-ExoSnapshot "$Root/repo-pg" $b.Home
    $null = $s | Backup-ExoDataDir
    $null = $s | Backup-ExoConfiguration
    $null = $s | Backup-ExoDatabase
    $null = $s | Backup-ExoChat
    $done = $s | Complete-ExoSnapshot
    Copy-Item "$Root/repo-pg/$($done.Id)/manifest.json" (Join-Path $PSScriptRoot 'manifest-format1-postgresql.json')

    $My = Start-TestMariaDb -Root "$Root/my"
    Invoke-TestMariaDbSql $My 'CREATE DATABASE exo CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE exo; CREATE TABLE soc (id int PRIMARY KEY); INSERT INTO soc VALUES (1), (2), (3);' | Out-Null
    $b = New-Bundle 'bundle-my' -Database MySql -DatabaseHost 127.0.0.1 -DatabasePort $My.Port -DatabaseName exo -DatabaseUser exo -DatabasePassword $My.Password -FileCount 3 -LargeFileCount 0
    $s = New-ExoSnapshot "$Root/repo-my" $b.Home
    $null = $s | Backup-ExoDatabase
    $null = $s | Backup-ExoConfiguration
    $done = $s | Complete-ExoSnapshot
    Copy-Item "$Root/repo-my/$($done.Id)/manifest.json" (Join-Path $PSScriptRoot 'manifest-format1-mysql.json')
}
finally {
    Stop-TestPostgres $Pg
    Stop-TestMariaDb $My
    Stop-MongoTestServer $Mongo
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
}
