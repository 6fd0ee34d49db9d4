<#
.SYNOPSIS
Makes the real pg_dump archives PgCustomArchiveTests reads (run as root; PostgreSQL 15 installed).
A private server is started, an eXo-like database is created, and it is dumped three ways.
#>
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../../Support/TestDatabases.psm1') -Force
$root = Join-Path ([System.IO.Path]::GetTempPath()) "exobackup-make-dumps-$PID"
$pg = Start-TestPostgres -Root $root -Password 'make-dumps'
try {
    Invoke-TestPostgresSql $pg 'CREATE DATABASE exo OWNER exo' | Out-Null
    Invoke-TestPostgresSql $pg @"
SET ROLE exo;
CREATE SCHEMA jcr;
CREATE TABLE jcr.jcr_sitem (id varchar(96) PRIMARY KEY, parent_id varchar(96), name varchar(512), version int);
CREATE TABLE jcr.jcr_svalue (id serial PRIMARY KEY, data bytea, property_id varchar(96));
CREATE TABLE soc_activities (id bigint PRIMARY KEY, title text, posted timestamptz);
CREATE TABLE empty_table (id int);
CREATE TABLE blobs_ref (id int, lo oid);
INSERT INTO jcr.jcr_sitem SELECT md5(g::text), md5((g / 10)::text), 'node-' || g || ' été', g % 7 FROM generate_series(1, 3000) g;
INSERT INTO jcr.jcr_svalue (data, property_id) SELECT decode(repeat(md5(g::text), 20), 'hex'), md5(g::text) FROM generate_series(1, 500) g;
INSERT INTO soc_activities SELECT g, 'activity ' || g || repeat(' text', g % 40), now() FROM generate_series(1, 5000) g;
INSERT INTO blobs_ref VALUES (1, lo_from_bytea(0, decode(repeat('cafebabe', 5000), 'hex')));
"@ -Database exo | Out-Null
    $env:PGPASSWORD = $pg.Password
    foreach ($v in @(@{ Name = 'exo-like.dump'; Z = @() }, @{ Name = 'exo-like-z0.dump'; Z = @('-Z0') }, @{ Name = 'exo-like-z9.dump'; Z = @('-Z9') })) {
        & "$($pg.Bin)/pg_dump" -h 127.0.0.1 -p $pg.Port -U exo --format=custom @($v.Z) --file (Join-Path $PSScriptRoot $v.Name) exo
        if ($LASTEXITCODE) { throw "pg_dump failed for $($v.Name)" }
    }
}
finally {
    Remove-Item Env:PGPASSWORD -ErrorAction Ignore
    Stop-TestPostgres $pg
    Remove-Item -Recurse -Force $root -ErrorAction Ignore
}
