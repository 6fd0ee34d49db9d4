# Helpers shared by the Pester files.

function Get-TreeState {
    <# A comparable description of a tree: kind, mode, mtime (100 ns), size and SHA-256 of each path. #>
    param([Parameter(Mandatory)] [string] $Path, [string[]] $Exclude = @())
    $root = (Resolve-Path $Path).ProviderPath
    $state = [ordered]@{}
    Get-ChildItem -LiteralPath $root -Recurse -Force | Sort-Object FullName | ForEach-Object {
        $rel = [System.IO.Path]::GetRelativePath($root, $_.FullName).Replace('\', '/')
        if ($Exclude | Where-Object { $rel -eq $_ -or $rel.StartsWith("$_/") }) { return }
        $mode = if ($IsWindows) { '' } else { [Convert]::ToString([int]$_.UnixFileMode, 8) }
        $state[$rel] = if ($_.LinkTarget) { "link $($_.LinkTarget)" }
        elseif ($_.PSIsContainer) { "dir $mode $($_.LastWriteTimeUtc.Ticks)" }
        else { "file $mode $($_.LastWriteTimeUtc.Ticks) $($_.Length) $((Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash)" }
    }
    $state
}

function Compare-TreeState {
    <# The differences between two tree states, one line each; nothing when they are equal. #>
    param($Expected, $Actual)
    foreach ($k in $Expected.Keys) {
        if (-not $Actual.Contains($k)) { "missing: $k" }
        elseif ($Expected[$k] -ne $Actual[$k]) { "differs: $k ($($Expected[$k]) vs $($Actual[$k]))" }
    }
    foreach ($k in $Actual.Keys) { if (-not $Expected.Contains($k)) { "extra: $k" } }
}

function Invoke-FreshPwsh {
    <#
    Runs a script in a new pwsh (the same one that runs the tests) and returns its exit code and output.
    -Prefix runs it through another command first (setpriv, to take root's read-everything right away).
    #>
    param([Parameter(Mandatory)] [string] $Script, [switch] $NoWait, [string[]] $Prefix = @())
    # Plain text: no ANSI escapes in what tests match, nor in a failure message (Pester's JUnit export refuses them).
    $Script = "`$PSStyle.OutputRendering = 'PlainText'; " + $Script
    $exe = [System.Environment]::ProcessPath
    $args = @(if ((Split-Path -Leaf $exe) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' }) + @('-NoProfile', '-NonInteractive', '-Command', $Script)
    if ($Prefix) { $args = @($Prefix | Select-Object -Skip 1) + @($exe) + $args; $exe = $Prefix[0] }
    if ($NoWait) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        $args | ForEach-Object { $psi.ArgumentList.Add($_) }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        return [System.Diagnostics.Process]::Start($psi)
    }
    $out = & $exe @args 2>&1
    [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out | Out-String) }
}

function Get-LiveProcess {
    <#
    Processes from /proc that are not zombies (PID 1 here reaps no orphans, so an ended process can
    linger as state Z), optionally only the children of -ParentId or those named -Name.
    #>
    param([int] $ParentId = 0, [string[]] $Name = @())
    foreach ($d in [System.IO.Directory]::EnumerateDirectories('/proc')) {
        $id = Split-Path -Leaf $d
        if ($id -notmatch '^\d+$') { continue }
        try { $stat = [System.IO.File]::ReadAllText("$d/stat") } catch { continue }
        $open = $stat.IndexOf('('); $close = $stat.LastIndexOf(')')
        $comm = $stat.Substring($open + 1, $close - $open - 1)
        $fields = $stat.Substring($close + 2).Split(' ')
        if ($fields[0] -eq 'Z') { continue }
        if ($ParentId -and [int]$fields[1] -ne $ParentId) { continue }
        if ($Name -and $comm -notin $Name) { continue }
        [pscustomobject]@{ Id = [int]$id; Name = $comm; ParentId = [int]$fields[1] }
    }
}

function Wait-Until {
    param([scriptblock] $Condition, [int] $TimeoutSeconds = 30, [string] $Because = 'the condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $Because" }
        Start-Sleep -Milliseconds 50
    }
}

function Clear-TestRoot {
    <# Stops every sample bundle a test file left running under its root, then removes the root. #>
    param([Parameter(Mandatory)] [string] $Root)
    Get-ChildItem $Root -Directory -ErrorAction Ignore | Where-Object { Test-Path "$($_.FullName)/start_eXo.sh" } |
        ForEach-Object { try { Stop-ExoPlatform $_.FullName -Kill -Timeout 5 } catch { Write-Warning $_ } }
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
}

function Get-WiderThanPrivate {
    <# Every folder above 0700 and file above 0600 under a path (a snapshot holds dumps and the codec key), one line each. #>
    param([Parameter(Mandatory)] [string] $Path)
    Get-ChildItem -LiteralPath $Path -Recurse -Force | ForEach-Object {
        $mode = [int]$_.UnixFileMode
        if ($mode -band 0x3F) { '{0} {1}' -f [Convert]::ToString($mode, 8), $_.FullName }
    }
}

function Edit-SnapshotManifest {
    <#
    Forges a snapshot as a writer of the repository can: -Edit changes the manifest (a hashtable),
    then its line in SHA256SUMS is recomputed, so every checksum still matches.
    #>
    param([Parameter(Mandatory)] [string] $SnapshotPath, [Parameter(Mandatory)] [scriptblock] $Edit)
    $manifest = Join-Path $SnapshotPath 'manifest.json'
    $m = Get-Content $manifest -Raw | ConvertFrom-Json -AsHashtable
    & $Edit $m
    $m | ConvertTo-Json -Depth 20 | Set-Content $manifest -NoNewline
    $sums = Join-Path $SnapshotPath 'SHA256SUMS'
    $hash = (Get-FileHash $manifest -Algorithm SHA256).Hash.ToLowerInvariant()
    (Get-Content $sums) -replace '^[0-9a-f]{64}  manifest\.json$', "$hash  manifest.json" | Set-Content $sums
}

Export-ModuleMember -Function Edit-SnapshotManifest, Get-WiderThanPrivate, Get-TreeState, Compare-TreeState, Invoke-FreshPwsh, Get-LiveProcess, Wait-Until, Clear-TestRoot
