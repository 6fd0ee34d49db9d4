# Restores against an eXo account that owns the folder its data dir is in and changes it while root
# restores (findings 2.3 and 2.4, as they were reproduced): root runs the cmdlets, the account's steps
# run as nobody under setpriv. Tag Reliability, part of the normal run; as root only.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'restore-safety'
    $B = New-Bundle 'exo' -FileCount 1500 -LargeFileCount 2 -LargeFileMB 8 # owned by nobody, as a real install
    $Repo = "$Root/repo"
    $Snap = Invoke-Backup $B $Repo Full
    $Gatein = Split-Path $B.DataDir

    function Start-AsExoAccount([string] $Script, [string[]] $Arguments) {
        <# bash as nobody, with the arguments as $1, $2 …; its output is read when it ends. #>
        $psi = [System.Diagnostics.ProcessStartInfo]::new('setpriv')
        foreach ($a in @('--reuid', '65534', '--regid', '65534', '--clear-groups', 'bash', '-c', $Script, 'bash') + $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($psi)
    }
    function Get-OwnerState([string] $Path) {
        <# Owner, group and mode of everything under a folder, the folder included: what Get-TreeState does not show. #>
        find $Path -printf '%P %u:%g %m\n' | Sort-Object
    }
    function New-RootsFolder([string] $Name) {
        <# A folder of root's, 0755, with a folder "files" as the data dir has, and a file in it. #>
        $f = "$Root/$Name"
        New-Item -ItemType Directory -Force "$f/files" | Out-Null
        Set-Content "$f/files/root-only.txt" "root's"
        $f
    }
}
AfterAll { Clear-TestRoot $Root }

Describe 'Restores against an eXo account that swaps links in' -Tag Reliability -Skip:($IsWindows -or (id -u) -ne '0' -or -not (Get-Command setpriv -ErrorAction Ignore)) {
    It 'writes nothing into root''s folder when a poller swaps the staging folder for a link to it, leaves the data dir as it was and says so (finding 2.3)' {
        $victim = New-RootsFolder 'roots-folder'
        $victimBefore = Get-TreeState $victim; $victimOwners = Get-OwnerState $victim
        $dataBefore = Get-TreeState $B.DataDir
        # The eXo account polls its folder; on seeing root's staging folder it renames it away and puts a link there
        # (again, should root make the name anew before the link is in).
        $poller = Start-AsExoAccount 'cd "$1" || exit 2; end=$((SECONDS + 300)); while [ $SECONDS -lt $end ]; do for d in data.restore-*; do case "$d" in *.away*) continue ;; esac; if [ -d "$d" ] && [ ! -L "$d" ]; then mv -T "$d" "$d.away" || continue; n=0; until ln -s "$2" "$d" 2>/dev/null; do mv -T "$d" "$d.away.$((n += 1))" 2>/dev/null; done; echo "$d"; exit 0; fi; done; done; exit 1' @($Gatein, $victim)
        try {
            $err = $null
            try { Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Component DataDir -DiscardReplaced -Confirm:$false | Out-Null } catch { $err = $_ }
            $poller.WaitForExit(10000) | Should -BeTrue -Because 'the poller ends once it has swapped'
        }
        finally { if (-not $poller.HasExited) { $poller.Kill() } }
        $swapped = $poller.StandardOutput.ReadToEnd().Trim()
        $poller.ExitCode | Should -Be 0 -Because "the poller swapped the staging folder ($($poller.StandardError.ReadToEnd()))"

        Compare-TreeState $victimBefore (Get-TreeState $victim) | Should -BeNullOrEmpty -Because 'root wrote nothing through the link'
        Get-OwnerState $victim | Should -Be $victimOwners -Because 'root chowned and chmodded nothing through the link'
        Compare-TreeState $dataBefore (Get-TreeState $B.DataDir) | Should -BeNullOrEmpty -Because 'the data dir is as it was'
        $swapped | Should -Match '^data\.restore-\d{8}T\d{6}Z-[0-9a-f]{16}$' -Because 'the staging folder has an unpredictable name'
        Get-ChildItem $Gatein -Filter 'data.pre-restore-*' | Should -BeNullOrEmpty
        Get-ChildItem -Force "$Gatein/$swapped.away" | Should -BeNullOrEmpty -Because 'what root wrote went with the failed restore'
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeRestoreTarget,*'
        "$err" | Should -Match ([regex]::Escape("$Gatein/$swapped"))
        # The account's link and folder are its own: gone only when it removes them.
        Remove-Item -Recurse -Force "$Gatein/$swapped", "$Gatein/$swapped.away*"
    }
    It 'writes nothing through a link of the live tree with -Path and names the link (finding 2.4)' {
        $outside = "$Root/outside"
        New-Item -ItemType Directory $outside | Out-Null
        $folder = "$($B.DataDir)/files/01"
        $swap = Start-AsExoAccount 'mv -T "$1" "$1.away" && ln -s "$2" "$1"' @($folder, $outside)
        $swap.WaitForExit(); $swap.ExitCode | Should -Be 0
        $dataBefore = Get-TreeState $B.DataDir
        $err = $null
        try { Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Component DataDir -Include 'files/01/*' -Confirm:$false | Out-Null } catch { $err = $_ }
        Get-ChildItem -Force $outside | Should -BeNullOrEmpty -Because 'root wrote nothing through the link'
        Compare-TreeState $dataBefore (Get-TreeState $B.DataDir) | Should -BeNullOrEmpty
        Get-ChildItem $Gatein -Filter 'data.pre-restore-*' | Should -BeNullOrEmpty -Because 'nothing was restored, so nothing was kept aside'
        $err.FullyQualifiedErrorId | Should -BeLike 'ExoBackup.UnsafeRestoreTarget,*'
        "$err" | Should -Match "'$([regex]::Escape($folder))' is a link"

        # The folder back: the same restore goes through, keeping what it replaces.
        $back = Start-AsExoAccount 'rm "$1" && mv -T "$1.away" "$1" && echo edited > "$(ls -d "$1"/* | head -1)"' @($folder)
        $back.WaitForExit(); $back.ExitCode | Should -Be 0
        $r = Restore-ExoSnapshot -Repository $Repo -Id $Snap.Id -Component DataDir -Include 'files/01/*' -Confirm:$false
        $r.Items | Should -BeGreaterThan 1
        $r.PreviousDataKeptAt | Should -BeLike "$($B.DataDir).pre-restore-*"
        Get-ChildItem $folder -File | Where-Object { (Get-Content $_.FullName -Raw) -eq "edited`n" } | Should -BeNullOrEmpty
    }
}
