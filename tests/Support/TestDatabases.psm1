# Private PostgreSQL and MariaDB servers for the tests: their own data folders, free ports on
# 127.0.0.1, started and stopped by the tests themselves (never the machine's own services).

function Get-FreeTcpPort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p
}

function Get-PostgresBin { Get-ChildItem '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore | Sort-Object FullName | Select-Object -Last 1 | ForEach-Object DirectoryName }

function Start-TestPostgres {
    <# initdb + pg_ctl as user postgres; TCP needs a password (scram), the socket is for the admin. #>
    param([string] $Root = (Join-Path ([System.IO.Path]::GetTempPath()) "exobackup-pg-$PID"), [string] $User = 'exo', [string] $Password = 'exo-secret')
    $bin = Get-PostgresBin
    if (-not $bin) { throw 'PostgreSQL server binaries not found (apt-get install postgresql)' }
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
    New-Item -ItemType Directory -Force $Root | Out-Null
    chown postgres $Root
    $port = Get-FreeTcpPort
    $null = Invoke-AsPostgres "$bin/initdb" '-D', "$Root/data", '--auth-local=peer', '--auth-host=scram-sha-256', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8'
    try { $null = Invoke-AsPostgres "$bin/pg_ctl" '-D', "$Root/data", '-l', "$Root/server.log", '-w', '-o', "-p $port -k $Root -c listen_addresses=127.0.0.1 -c fsync=off", 'start' }
    catch { throw "$_ $(Get-Content "$Root/server.log" -Raw -ErrorAction Ignore)" }
    $pg = [pscustomobject]@{ Engine = 'PostgreSql'; Root = $Root; Port = $port; Host = '127.0.0.1'; User = $User; Password = $Password; Bin = $bin }
    Invoke-TestPostgresSql $pg "CREATE ROLE `"$User`" LOGIN CREATEDB PASSWORD '$($Password.Replace("'", "''"))'" | Out-Null
    $pg
}

function Invoke-AsPostgres {
    <#
    Runs a PostgreSQL tool as the postgres user from "/", a folder it can enter wherever the clone lives
    (from a 0700 folder it warns 'could not change directory'), and returns its standard output only:
    standard error goes into the exception when the tool fails, never into the rows a test compares.
    #>
    param([Parameter(Mandatory)] [string] $Tool, [string[]] $Arguments = @(), $InputText)
    Push-Location -LiteralPath '/'
    try {
        $all = if ($null -ne $InputText) { $InputText | & runuser -u postgres -- $Tool @Arguments 2>&1 } else { & runuser -u postgres -- $Tool @Arguments 2>&1 }
        $exit = $LASTEXITCODE
    }
    finally { Pop-Location }
    $errors = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    if ($exit) { throw "$(Split-Path -Leaf $Tool) failed (exit $exit): $($errors -join "`n")" }
    @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$_" })
}

function Invoke-TestPostgresSql {
    <# Runs SQL as the postgres superuser over the private socket; returns the rows (unaligned, tab-separated). #>
    param($Pg, [string] $Sql, [string] $Database = 'postgres')
    Invoke-AsPostgres psql '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-F', "`t", '-h', $Pg.Root, '-p', "$($Pg.Port)", '-d', $Database, '-f', '-' -InputText $Sql
}

function Stop-TestPostgres {
    param($Pg)
    if (-not $Pg) { return }
    try { $null = Invoke-AsPostgres "$($Pg.Bin)/pg_ctl" '-D', "$($Pg.Root)/data", '-m', 'immediate', '-w', 'stop' } catch { Write-Warning $_ }
    Remove-Item -Recurse -Force $Pg.Root -ErrorAction Ignore
}

function Start-TestMariaDb {
    <# mariadb-install-db + mariadbd as root on a private datadir; the binary log is on (for the recorded position). #>
    param([string] $Root = (Join-Path ([System.IO.Path]::GetTempPath()) "exobackup-maria-$PID"), [string] $User = 'exo', [string] $Password = 'exo-secret')
    $mariadbd = @('/usr/sbin/mariadbd', '/usr/sbin/mysqld') | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $mariadbd) { throw 'MariaDB server not found (apt-get install mariadb-server)' }
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
    New-Item -ItemType Directory -Force $Root | Out-Null
    $port = Get-FreeTcpPort
    & mariadb-install-db --no-defaults --datadir="$Root/data" --user=root --auth-root-authentication-method=socket --skip-test-db 2>&1 | Out-Null
    if ($LASTEXITCODE) { throw 'mariadb-install-db failed' }
    $psi = [System.Diagnostics.ProcessStartInfo]::new($mariadbd)
    foreach ($a in "--no-defaults", "--datadir=$Root/data", "--port=$port", "--bind-address=127.0.0.1", "--socket=$Root/mysql.sock",
        "--pid-file=$Root/mysql.pid", "--log-error=$Root/error.log", "--user=root", "--log-bin=$Root/binlog", "--server-id=1",
        "--innodb-flush-log-at-trx-commit=0", "--skip-name-resolve") { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $proc = [System.Diagnostics.Process]::Start($psi)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path "$Root/mysql.sock")) {
        if ($proc.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "mariadbd did not start: $(Get-Content "$Root/error.log" -Raw -ErrorAction Ignore)" }
        Start-Sleep -Milliseconds 100
    }
    $db = [pscustomobject]@{ Engine = 'MySql'; Root = $Root; Port = $port; Host = '127.0.0.1'; User = $User; Password = $Password; Process = $proc }
    $quoted = $Password.Replace('\', '\\').Replace("'", "''")
    Invoke-TestMariaDbSql $db "CREATE USER '$User'@'%' IDENTIFIED BY '$quoted'; GRANT ALL ON *.* TO '$User'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;" | Out-Null
    $db
}

function Invoke-TestMariaDbSql {
    param($Db, [string] $Sql, [string] $Database)
    $args = @("--socket=$($Db.Root)/mysql.sock", '-N', '-B') + @(if ($Database) { $Database })
    $out = $Sql | & mariadb @args 2>&1
    if ($LASTEXITCODE) { throw "mariadb failed: $out" }
    $out
}

function Stop-TestMariaDb {
    param($Db)
    if (-not $Db) { return }
    try { $Db.Process.Kill($true); $Db.Process.WaitForExit(10000) | Out-Null } catch { }
    Remove-Item -Recurse -Force $Db.Root -ErrorAction Ignore
}

function Start-MongoTestServer {
    <#
    The MongoDB wire-protocol test server (tests/Support/MongoTestServer, built by build.ps1 Test) on a
    free port: -User and -Password turn on SCRAM-SHA-256 (the password goes by environment, never argv),
    -Seed fills chat.messages with that many documents. Returns the process and its port.
    #>
    param([string] $User, [string] $Password, [int] $Seed = 0)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.ArgumentList.Add((Join-Path $PSScriptRoot '../../out/tools/mongo-test-server/MongoTestServer.dll'))
    if ($User) { $psi.ArgumentList.Add('--user'); $psi.ArgumentList.Add($User); $psi.Environment['MONGO_TEST_PASSWORD'] = $Password }
    if ($Seed) { $psi.ArgumentList.Add('--seed'); $psi.ArgumentList.Add("$Seed") }
    $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $port = [int](($process.StandardOutput.ReadLine() -split ' ')[1])
    [pscustomobject]@{ Process = $process; Port = $port; Host = "127.0.0.1:$port" }
}

function Stop-MongoTestServer {
    <# Closes its standard input (it exits then), and kills it if it has not after 5 s. #>
    param($Server)
    if (-not $Server) { return }
    $Server.Process.StandardInput.Close()
    if (-not $Server.Process.WaitForExit(5000)) { $Server.Process.Kill() }
}

Export-ModuleMember -Function Get-FreeTcpPort, Start-TestPostgres, Invoke-TestPostgresSql, Stop-TestPostgres, Start-TestMariaDb, Invoke-TestMariaDbSql, Stop-TestMariaDb, Start-MongoTestServer, Stop-MongoTestServer
