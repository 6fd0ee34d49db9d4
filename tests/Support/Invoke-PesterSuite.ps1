<#
.SYNOPSIS
Runs the Pester suite in this (fresh) pwsh against the built module and writes the totals as JSON.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $PesterModule,
    [Parameter(Mandatory)] [string] $ResultFile,
    [Parameter(Mandatory)] [string] $TestsDir,
    [string] $Filter,
    [switch] $Soak
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterModule -Force
$env:EXOBACKUP_MODULE = Join-Path $ModuleDir 'ExoBackup.psd1'
$env:EXOBACKUP_TESTS = $TestsDir
$env:EXOBACKUP_SOAK = if ($Soak) { '1' } else { '' }
$ProgressPreference = 'SilentlyContinue'

$config = New-PesterConfiguration
$files = Get-ChildItem $TestsDir -Filter '*.Tests.ps1' -Recurse | Where-Object FullName -notmatch '[\\/](bin|obj)[\\/]'
if ($Filter) { $files = $files | Where-Object Name -match $Filter }
$config.Run.Path = @($files.FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'JUnitXml'
$config.TestResult.OutputPath = [System.IO.Path]::ChangeExtension($ResultFile, '.junit.xml')
if (-not $Soak) { $config.Filter.ExcludeTag = @('Soak') }
$result = Invoke-Pester -Configuration $config

$skipped = @($result.Skipped | ForEach-Object {
    $why = if ($_.ErrorRecord -and $_.ErrorRecord.Count) { $_.ErrorRecord[0].Exception.Message } else { 'its block is skipped (-Skip): a part it needs (Tomcat 10, PostgreSQL, MariaDB, javac) is not installed here; build.ps1 Test installs them as root' }
    "Pester: $($_.ExpandedPath): $why"
})
# Tests left out by the Soak tag are listed (and counted as skipped), never silently absent.
$skipped += @($result.NotRun | Where-Object { $_.Tag -contains 'Soak' -or $_.Block.Tag -contains 'Soak' } | ForEach-Object {
    "Pester: $($_.ExpandedPath): tagged Soak (minutes of load); runs with build.ps1 Test -Soak"
})
# A container (file) that failed in BeforeAll counts its tests as failed, not as silently absent.
$failedBlocks = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $failedBlocks
    Skipped = $skipped
} | ConvertTo-Json -Depth 3 | Set-Content $ResultFile
