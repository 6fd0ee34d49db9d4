<#
.SYNOPSIS
Builds, tests, demonstrates, measures and packages ExoBackup.

.DESCRIPTION
Tasks (several may be given, in order):
  Build    lays out an importable module in out/ExoBackup: ExoBackup.dll, the manifest, the format
           file and help at the root; the engine and every driver in Dependencies/.
  Test     Build, install what the tests need (says what), run xUnit and Pester, print
           "N passed, N failed, N skipped" and what was skipped and why.
  Demo     Build, then run a backup and restore of the bundled sample eXo instance.
  Bench    Build, then measure against baselines run in the same call (see README).
  Package  Build, then a versioned module folder and a .nupkg in out/package.
  Clean    Removes out/ and every bin/ and obj/.

.EXAMPLE
dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string[]] $Task = @('Build'),
    [ValidateSet('Debug', 'Release')] [string] $Configuration = 'Release',
    # Test: run only Pester files whose name matches, and skip xUnit (for quick iterations).
    [string] $PesterFilter,
    # Test: also run the long soak tests of the reliability suite.
    [switch] $Soak,
    # Test: do not install missing packages; tests that need them are skipped and say so.
    [switch] $NoInstall
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleDir = Join-Path $Out 'ExoBackup'
$ToolsDir = Join-Path $Out 'tools'

Import-Module (Join-Path $Root 'tools/Prerequisites.psm1') -Force

function Get-DotNet { (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source }

function Invoke-Build {
    $dotnet = Get-DotNet
    $staging = Join-Path $Out 'staging'
    Remove-Item -Recurse -Force $staging, $ModuleDir -ErrorAction Ignore
    Invoke-Native $dotnet @('publish', "$Root/src/ExoBackup.Engine/ExoBackup.Engine.csproj", '-c', $Configuration, '-o', "$staging/engine", '--nologo', '-v', 'q')
    Invoke-Native $dotnet @('build', "$Root/src/ExoBackup/ExoBackup.csproj", '-c', $Configuration, '-o', "$staging/module", '--nologo', '-v', 'q')
    New-Item -ItemType Directory -Force "$ModuleDir/Dependencies" | Out-Null
    # Only the shim goes to the root: any driver there would load into the default context.
    Copy-Item "$staging/module/ExoBackup.dll", "$staging/module/ExoBackup.pdb" $ModuleDir -ErrorAction SilentlyContinue
    Copy-Item "$staging/engine/*" "$ModuleDir/Dependencies" -Recurse
    Copy-Item "$Root/ExoBackup.psd1", "$Root/ExoBackup.format.ps1xml" $ModuleDir
    Invoke-Native $dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', "$Root/tools/Build-Help.ps1", '-ModuleDir', $ModuleDir, '-DocsDir', "$Root/docs/en-US")
    Write-Host "Built $ModuleDir"
}

function Install-Prerequisites([string[]] $Names) {
    Install-Prerequisite -Name $Names -NoInstall:$NoInstall
}

function Restore-TestTools {
    $dotnet = Get-DotNet
    Invoke-Native $dotnet @('restore', "$Root/tests/Support/TestTools.csproj", '--packages', "$ToolsDir/packages", '--nologo', '-v', 'q')
    # The MongoDB wire-protocol test server that the chat tests start (no MongoDB can be installed here).
    Invoke-Native $dotnet @('build', "$Root/tests/Support/MongoTestServer/MongoTestServer.csproj", '-c', $Configuration, '-o', "$ToolsDir/mongo-test-server", '--nologo', '-v', 'q')
}

function Invoke-Tests {
    Invoke-Build
    Install-Prerequisites (Get-Prerequisite).Package
    Restore-TestTools
    $dotnet = Get-DotNet
    $results = Join-Path $Out 'test-results'
    Remove-Item -Recurse -Force $results -ErrorAction Ignore
    New-Item -ItemType Directory -Force $results | Out-Null
    $xunit = @{ Passed = 0; Failed = 0; Skipped = @() }
    if (-not $PesterFilter) {
        & $dotnet test "$Root/tests/ExoBackup.Engine.Tests/ExoBackup.Engine.Tests.csproj" -c $Configuration --nologo `
            --logger "trx;LogFileName=$results/xunit.trx" --logger 'console;verbosity=minimal'
        $trx = Join-Path $results 'xunit.trx'
        if (-not (Test-Path $trx)) { throw 'xUnit wrote no results: the test project did not build or run.' }
        [xml] $doc = Get-Content $trx -Raw
        $nsm = [System.Xml.XmlNamespaceManager]::new($doc.NameTable)
        $nsm.AddNamespace('t', $doc.DocumentElement.NamespaceURI)
        foreach ($r in $doc.SelectNodes('//t:UnitTestResult', $nsm)) {
            switch ($r.outcome) {
                'Passed' { $xunit.Passed++ }
                'NotExecuted' { $xunit.Skipped += "xUnit: $($r.testName): $($r.SelectSingleNode('.//t:Message', $nsm).InnerText)" }
                default { $xunit.Failed++ }
            }
        }
    }
    $pesterJson = Join-Path $results 'pester.json'
    $runner = @('pwsh', '-NoProfile', '-NonInteractive', '-File', "$Root/tests/Support/Invoke-PesterSuite.ps1",
        '-ModuleDir', $ModuleDir, '-PesterModule', (Get-PesterPath), '-ResultFile', $pesterJson, '-TestsDir', "$Root/tests")
    if ($PesterFilter) { $runner += @('-Filter', $PesterFilter) }
    if ($Soak) { $runner += '-Soak' }
    & $dotnet @runner
    if (-not (Test-Path $pesterJson)) { throw 'Pester wrote no results.' }
    $pester = Get-Content $pesterJson -Raw | ConvertFrom-Json
    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = @($xunit.Skipped) + @($pester.Skipped)
    Write-Host ''
    Write-Host "xUnit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped.Count) skipped"
    Write-Host "Pester: $($pester.Passed) passed, $($pester.Failed) failed, $(@($pester.Skipped).Count) skipped"
    if ($skipped.Count) {
        Write-Host 'Skipped, and why:'
        $skipped | ForEach-Object { Write-Host "  - $_" }
    }
    # In CI nothing that this script can install may be skipped: such a skip means the install step broke.
    $refused = @(if ($env:CI -eq 'true') { $skipped | Where-Object { -not (Test-SkipAllowedInCI $_) } })
    if ($refused.Count) {
        Write-Host "Counted as failed in CI (a part build.ps1 installs was missing, or a test skipped for another reason):"
        $refused | ForEach-Object { Write-Host "  - $_" }
        $failed += $refused.Count
        $skipped = @($skipped | Where-Object { $_ -notin $refused })
    }
    $line = "$passed passed, $failed failed"
    if ($skipped.Count) { $line += ", $($skipped.Count) skipped" }
    Write-Host $line
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Get-PesterPath {
    $psd1 = Get-ChildItem "$ToolsDir/packages/pester/*/tools/Pester.psd1" | Select-Object -First 1
    if (-not $psd1) { throw "Pester not found under $ToolsDir/packages; run the Test task." }
    $psd1.FullName
}

function Invoke-Demo {
    Invoke-Build
    Install-Prerequisites @('tomcat10')
    & (Get-DotNet) pwsh -NoProfile -NonInteractive -File "$Root/examples/Demo.ps1" -ModuleDir $ModuleDir
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Bench {
    Invoke-Build
    Install-Prerequisites @('zstd', 'postgresql', 'hyperfine', 'restic', 'borgbackup')
    & (Get-DotNet) pwsh -NoProfile -NonInteractive -File "$Root/tests/Support/Invoke-Bench.ps1" -ModuleDir $ModuleDir
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Package {
    Invoke-Build
    & (Get-DotNet) pwsh -NoProfile -NonInteractive -File "$Root/tools/New-ModulePackage.ps1" -ModuleDir $ModuleDir -OutDir (Join-Path $Out 'package')
    if ($LASTEXITCODE -ne 0) { throw 'Packaging failed' }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Tests }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Package' { Invoke-Package }
        'Clean' {
            Remove-Item -Recurse -Force $Out -ErrorAction Ignore
            Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Where-Object FullName -notlike "$Root/.git*" | Remove-Item -Recurse -Force
        }
    }
}
