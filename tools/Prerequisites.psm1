# What the tests, the demo and the bench need from Debian, and the one step that installs it.
# build.ps1 calls Install-Prerequisite; tests/Build.Tests.ps1 drives it with a stand-in apt-get.

# Each package with the probe that says it is there. Probes look for the file the suites use,
# not for dpkg's records: a package that dpkg lists but whose files are gone counts as missing.
$script:Probes = [ordered]@{
    'tomcat10'             = { Test-Path '/usr/share/tomcat10/bin/catalina.sh' }
    'default-jdk-headless' = { [bool](Get-Command javac -CommandType Application -ErrorAction Ignore) }
    'postgresql'           = { [bool](Get-ChildItem '/usr/lib/postgresql/*/bin/initdb' -ErrorAction Ignore) }
    'mariadb-server'       = { Test-Path '/usr/sbin/mariadbd' }
    'mariadb-client'       = { [bool](Get-Command mariadb-dump -CommandType Application -ErrorAction Ignore) }
    'zstd'                 = { [bool](Get-Command zstd -CommandType Application -ErrorAction Ignore) }
    'pigz'                 = { [bool](Get-Command pigz -CommandType Application -ErrorAction Ignore) }
    'hyperfine'            = { [bool](Get-Command hyperfine -CommandType Application -ErrorAction Ignore) }
    'systemd'              = { [bool](Get-Command systemd-analyze -CommandType Application -ErrorAction Ignore) }
    'restic'               = { [bool](Get-Command restic -CommandType Application -ErrorAction Ignore) }
    'borgbackup'           = { [bool](Get-Command borg -CommandType Application -ErrorAction Ignore) }
}
# The bench's peers: only build.ps1 Bench installs them. Get-Prerequisite leaves them out of its
# default list, which is what the Test task installs, so CI does not pay for them.
$script:BenchOnly = @('restic', 'borgbackup')

function Invoke-Native {
    <# Runs a program and stops on a non-zero exit. Advanced, so a stray argument is a binding error, not ignored. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $File,
        [Parameter(Mandatory, Position = 1)] [AllowEmptyCollection()] [string[]] $Arguments
    )
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-Prerequisite {
    <# The packages (those the suites use, or -Name: any with a probe) with whether each probe finds it now. #>
    [CmdletBinding()]
    param([string[]] $Name = @($script:Probes.Keys | Where-Object { $_ -notin $script:BenchOnly }), [System.Collections.IDictionary] $Probes = $script:Probes)
    foreach ($n in $Name) {
        if (-not $Probes.Contains($n)) { throw "No probe for package '$n'; known: $($Probes.Keys -join ', ')" }
        [pscustomobject]@{ Package = $n; Installed = [bool](& $Probes[$n]) }
    }
}

function Install-Prerequisite {
    <#
    Installs the packages whose probe fails (apt-get, as root), then probes every one again and throws
    naming each package still missing, with apt-get's output. -NoInstall, or no root or apt-get, only
    warns: the suites then skip what needs them, and in CI those skips fail the run.
    -Probes and -PolicyRcPath are for the test of this function.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string[]] $Name,
        [switch] $NoInstall,
        [System.Collections.IDictionary] $Probes = $script:Probes,
        [string] $PolicyRcPath = '/usr/sbin/policy-rc.d'
    )
    if ($IsWindows) { return }
    $missing = @(Get-Prerequisite -Name $Name -Probes $Probes | Where-Object { -not $_.Installed } | ForEach-Object Package)
    if (-not $missing) { return }
    $isRoot = (& id -u) -eq '0'
    $aptGet = Get-Command apt-get -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($NoInstall -or -not $isRoot -or -not $aptGet) {
        $why = if ($NoInstall) { '-NoInstall' } elseif (-not $isRoot) { 'not root' } else { 'no apt-get' }
        Write-Warning "Not installing $($missing -join ', ') ($why): the tests that need them are skipped."
        return
    }
    Write-Host "Installing Debian packages: $($missing -join ', ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    $log = [System.Collections.Generic.List[string]]::new()
    # policy-rc.d keeps the packages' own services from starting: the tests start private instances.
    $hadPolicy = Test-Path $PolicyRcPath
    if (-not $hadPolicy) { Set-Content $PolicyRcPath "#!/bin/sh`nexit 101`n"; & chmod 755 $PolicyRcPath }
    try {
        foreach ($step in @(@('update', '-qq'), (@('install', '-y', '-qq', '--no-install-recommends', '--') + $missing))) {
            $out = & $aptGet.Source @step 2>&1
            $exit = $LASTEXITCODE
            $out | ForEach-Object { $log.Add("$_") }
            # A failed update (one mirror down) can still leave lists that install from.
            if ($exit -ne 0) { $log.Add("apt-get $($step[0]) exited with $exit") }
        }
    }
    finally { if (-not $hadPolicy) { Remove-Item $PolicyRcPath -Force -ErrorAction Ignore } }
    $still = @(Get-Prerequisite -Name $missing -Probes $Probes | Where-Object { -not $_.Installed } | ForEach-Object Package)
    if ($still) {
        $tail = ($log | Select-Object -Last 40) -join "`n"
        throw "Still missing after apt-get install: $($still -join ', '). apt-get said:`n$tail"
    }
    Write-Host "Installed: $($missing -join ', ')"
}

# The only reasons a test may be skipped in CI: a server that no package here provides, whose real
# suite is gated on an EXOBACKUP_TEST_* variable, and the Soak tests left out on purpose.
$script:SkipAllowedInCI = 'EXOBACKUP_TEST_[A-Z0-9_]+ is not set|tagged Soak'

function Test-SkipAllowedInCI {
    <# Whether a skip (its line "<suite>: <test>: <reason>") may pass in CI; any other skip fails the run there. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Skip)
    $Skip -match $script:SkipAllowedInCI
}

Export-ModuleMember -Function Invoke-Native, Get-Prerequisite, Install-Prerequisite, Test-SkipAllowedInCI
