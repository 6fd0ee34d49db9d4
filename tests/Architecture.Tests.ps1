# The shape of the code, read from the sources: engine folders without cycles, as the README lists
# them, and every error id the code raises in the README's table.
BeforeAll {
    $RepoRoot = Split-Path $env:EXOBACKUP_TESTS
    $EngineDir = Join-Path $RepoRoot 'src/ExoBackup.Engine'
    $Readme = Get-Content (Join-Path $RepoRoot 'README.md') -Raw

    function Get-FolderDependency {
        <# Each engine folder and the other folders its files name (a using, or a qualified name such as Storage.StorageNames). #>
        $folders = Get-ChildItem $EngineDir -Directory | Where-Object Name -notin 'bin', 'obj' | ForEach-Object Name
        $deps = [ordered]@{}
        foreach ($f in $folders | Sort-Object) {
            $uses = [System.Collections.Generic.SortedSet[string]]::new([StringComparer]::Ordinal)
            foreach ($file in Get-ChildItem (Join-Path $EngineDir $f) -Filter *.cs -Recurse) {
                $src = (Get-Content $file.FullName -Raw) -replace '//[^\n]*', ''
                foreach ($o in $folders | Where-Object { $_ -ne $f }) {
                    if ($src -cmatch "using ExoBackup\.Engine\.$o;" -or $src -cmatch "(?<![\w.])$o\.[A-Z]\w*" -or $src -cmatch "ExoBackup\.Engine\.$o\.") {
                        $null = $uses.Add($o)
                    }
                }
            }
            $deps[$f] = @($uses)
        }
        $deps
    }
}

Describe 'Engine folders' {
    BeforeAll { $Deps = Get-FolderDependency }

    It 'depend on each other without a cycle' {
        $cycles = foreach ($a in $Deps.Keys) {
            # Depth-first from each folder: reaching it again is a cycle.
            $seen = @{}; $stack = [System.Collections.Generic.Stack[object]]::new()
            foreach ($b in $Deps[$a]) { $stack.Push(@($a, $b)) }
            while ($stack.Count) {
                $path = $stack.Pop()
                $last = $path[-1]
                if ($last -eq $a) { ($path -join ' -> '); break }
                if ($seen[$last]) { continue }
                $seen[$last] = $true
                foreach ($n in $Deps[$last]) { $stack.Push(@($path) + $n) }
            }
        }
        $cycles | Should -BeNullOrEmpty
    }

    It 'are listed in the README''s Design section with what each uses' {
        $listed = [ordered]@{}
        foreach ($m in [regex]::Matches($Readme, '(?m)^\| `(\w+)/` \| [^|]+ \| ([^|]*) \|$')) {
            $listed[$m.Groups[1].Value] = @($m.Groups[2].Value -split ',\s*' | ForEach-Object { $_.Trim(' ', '`', '/') } | Where-Object { $_ -and $_ -ne '—' } | Sort-Object)
        }
        $listed.Keys | Sort-Object | Should -Be ($Deps.Keys | Sort-Object)
        foreach ($f in $Deps.Keys) { ($listed[$f] -join ', ') | Should -Be (@($Deps[$f] | Sort-Object) -join ', ') -Because "the README says what $f/ uses" }
    }
}

Describe 'Error ids' {
    BeforeAll {
        # Every id comes from the catalogue, one factory a situation: "ExoBackup.X" strings there.
        $Catalogue = Join-Path $EngineDir 'Errors.cs'
        $Sources = Get-ChildItem (Join-Path $RepoRoot 'src') -Filter *.cs -Recurse | Where-Object FullName -notmatch '[\\/](bin|obj)[\\/]'
        function Get-ErrorId([string] $Text) {
            [regex]::Matches($Text, '"ExoBackup\.([A-Za-z]+)"') | ForEach-Object { $_.Groups[1].Value } | Where-Object { $_ -cne 'Engine' } # "ExoBackup.Engine" names the assembly
        }
        $CatalogueIds = @(Get-ErrorId (Get-Content $Catalogue -Raw) | Sort-Object -Unique)
        # A row names an id in full (`ExoBackup.X`) or, after a slash, by its short name (`X`), in its first column.
        $Named = @([regex]::Matches($Readme, '(?m)^\| (`ExoBackup\.[^|]*)\|') | ForEach-Object { [regex]::Matches($_.Groups[1].Value, '`(?:ExoBackup\.)?([A-Za-z]+)`') } | ForEach-Object { $_.Groups[1].Value })
    }

    It 'are the catalogue''s: no other file names an id it lacks' {
        $CatalogueIds.Count | Should -BeGreaterThan 40
        $elsewhere = foreach ($f in $Sources | Where-Object FullName -ne $Catalogue) {
            Get-ErrorId (Get-Content $f.FullName -Raw) | ForEach-Object { "$($f.Name): $_" }
        }
        $elsewhere | Where-Object { ($_ -split ': ')[1] -cnotin $CatalogueIds } | Should -BeNullOrEmpty
    }

    It 'are made by the catalogue alone' {
        # new ExoBackupException(…) or a target-typed new("ExoBackup.X", …) anywhere but the catalogue and the exception itself.
        $made = foreach ($f in $Sources | Where-Object { $_.FullName -ne $Catalogue -and $_.Name -ne 'ExoBackupException.cs' }) {
            Select-String -LiteralPath $f.FullName -Pattern 'new ExoBackupException\(|new\("ExoBackup\.' | ForEach-Object { "$($f.Name):$($_.LineNumber)" }
        }
        $made | Should -BeNullOrEmpty
    }

    It 'are each in the README''s table of errors, which names no other' {
        $CatalogueIds | Where-Object { $_ -cnotin $Named } | Should -BeNullOrEmpty
        $Named | Where-Object { $_ -cnotin $CatalogueIds } | Should -BeNullOrEmpty
    }
}
