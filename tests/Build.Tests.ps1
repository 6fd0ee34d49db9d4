# The install step of build.ps1 (tools/Prerequisites.psm1), driven with a stand-in apt-get first on
# PATH that records its arguments: nothing here depends on what this machine has installed.
BeforeAll {
    Import-Module (Join-Path $env:EXOBACKUP_TESTS '../tools/Prerequisites.psm1') -Force
    $Root = Join-Path ([System.IO.Path]::GetTempPath()) "exo-build-tests-$PID"
    $Bin = Join-Path $Root 'bin'
    $Installed = Join-Path $Root 'installed'
    $Log = Join-Path $Root 'apt-get.log'
    $Policy = Join-Path $Root 'policy-rc.d'
    New-Item -ItemType Directory -Force $Bin, $Installed | Out-Null
    # apt-get: one line per call (its arguments, and whether policy-rc.d was in place); "install" marks
    # each package after "--" installed, except those in STANDIN_APT_FAIL, which it says it cannot find.
    Set-Content "$Bin/apt-get" @"
#!/bin/bash
policy=no; [ -e '$Policy' ] && policy=yes
echo "policy=`$policy `$*" >> '$Log'
if [ "`$1" = install ]; then
  seen=no
  for a in "`$@"; do
    if [ `$seen = yes ]; then
      case " `$STANDIN_APT_FAIL " in *" `$a "*) echo "E: Unable to locate package `$a" >&2; exit 100;; esac
      touch '$Installed'/"`$a"
    fi
    [ "`$a" = -- ] && seen=yes
  done
fi
exit 0
"@
    # id: says root, so the step installs whoever runs the tests.
    Set-Content "$Bin/id" "#!/bin/sh`necho 0`n"
    chmod 755 "$Bin/apt-get" "$Bin/id"
    $SavedPath = $env:PATH
    function New-Probes([string[]] $Names) {
        $p = [ordered]@{}
        foreach ($n in $Names) { $p[$n] = [scriptblock]::Create("Test-Path '$Installed/$n'") }
        $p
    }
    function Read-AptLog { @(if (Test-Path $Log) { Get-Content $Log }) }
}
AfterAll {
    $env:PATH = $SavedPath
    Remove-Item -Recurse -Force $Root -ErrorAction Ignore
}

Describe 'Install-Prerequisite' -Skip:$IsWindows {
    BeforeEach {
        $env:PATH = "$Bin$([System.IO.Path]::PathSeparator)$SavedPath"
        $env:STANDIN_APT_FAIL = ''
        Remove-Item $Log, "$Installed/*", $Policy -Force -ErrorAction Ignore
    }
    AfterEach { $env:PATH = $SavedPath; Remove-Item Env:STANDIN_APT_FAIL -ErrorAction Ignore }

    It 'passes the missing packages, and only those, to apt-get install, with policy-rc.d in place' {
        New-Item -ItemType File "$Installed/already" | Out-Null
        Install-Prerequisite -Name already, tomcat10, pigz -Probes (New-Probes already, tomcat10, pigz) -PolicyRcPath $Policy 6>$null
        $calls = Read-AptLog
        $calls[0] | Should -BeLike 'policy=yes update*'
        $calls[1] | Should -Be 'policy=yes install -y -qq --no-install-recommends -- tomcat10 pigz'
        $calls.Count | Should -Be 2
        Test-Path $Policy | Should -BeFalse -Because 'the policy-rc.d it wrote is removed again'
        Test-Path "$Installed/tomcat10", "$Installed/pigz" | Should -Be $true, $true
    }

    It 'stops naming each package still missing, with what apt-get said' {
        $env:STANDIN_APT_FAIL = 'hyperfine'
        { Install-Prerequisite -Name zstd, hyperfine -Probes (New-Probes zstd, hyperfine) -PolicyRcPath $Policy 6>$null } |
            Should -Throw '*Still missing after apt-get install: hyperfine.*Unable to locate package hyperfine*'
    }

    It 'fails when apt-get succeeds yet a probe still finds nothing' {
        $probes = New-Probes zstd
        $probes['ghost'] = { $false }
        { Install-Prerequisite -Name zstd, ghost -Probes $probes -PolicyRcPath $Policy 6>$null } |
            Should -Throw '*Still missing after apt-get install: ghost.*'
        (Read-AptLog)[-1] | Should -BeLike '*-- zstd ghost'
    }

    It 'does not call apt-get when nothing is missing' {
        New-Item -ItemType File "$Installed/zstd" | Out-Null
        Install-Prerequisite -Name zstd -Probes (New-Probes zstd) -PolicyRcPath $Policy 6>$null
        Read-AptLog | Should -BeNullOrEmpty
    }

    It 'only warns with -NoInstall, and calls no apt-get' {
        Install-Prerequisite -Name pigz -Probes (New-Probes pigz) -PolicyRcPath $Policy -NoInstall -WarningVariable w 3>$null
        "$w" | Should -BeLike '*Not installing pigz (-NoInstall)*'
        Read-AptLog | Should -BeNullOrEmpty
    }

    It 'keeps a policy-rc.d that was there before' {
        Set-Content $Policy 'mine'
        Install-Prerequisite -Name pigz -Probes (New-Probes pigz) -PolicyRcPath $Policy 6>$null
        Get-Content $Policy | Should -Be 'mine'
    }

    It 'refuses an unknown package name instead of ignoring it' {
        { Install-Prerequisite -Name nosuch -Probes (New-Probes zstd) -PolicyRcPath $Policy } | Should -Throw "*No probe for package 'nosuch'*"
    }

    It 'lists by default the packages the suites use (what the Test task installs), not the bench''s peers' {
        (Get-Prerequisite).Package | Should -Be tomcat10, default-jdk-headless, postgresql, mariadb-server, mariadb-client, zstd, pigz, hyperfine, systemd
    }

    It 'has probes for the bench''s peers, restic and borgbackup' {
        (Get-Prerequisite -Name restic, borgbackup).Package | Should -Be restic, borgbackup
    }
}

Describe 'Invoke-Native' {
    It 'is an error, not a silent drop, when arguments spill out of the list (the line that installed nothing)' {
        { Invoke-Native 'true' @('install', '-y') + @('tomcat10') } | Should -Throw -ErrorId 'PositionalParameterNotFound,Invoke-Native'
    }
    It 'throws on a non-zero exit' {
        { Invoke-Native 'false' @() } | Should -Throw '*false  failed with exit code 1*'
    }
}

Describe 'Skips in CI' {
    It 'allows <Skip>' -ForEach @(
        @{ Skip = 'Pester: Chat.real: EXOBACKUP_TEST_MONGODB_URI is not set: no MongoDB server can be installed on this machine' }
        @{ Skip = 'Pester: Database.SQL: EXOBACKUP_TEST_SQLSERVER is not set: no SQL Server can be installed on this machine' }
        @{ Skip = 'Pester: Load.million: tagged Soak (minutes of load); runs with build.ps1 Test -Soak' }
    ) { Test-SkipAllowedInCI $Skip | Should -BeTrue }
    It 'refuses <Skip>' -ForEach @(
        @{ Skip = 'Pester: Lifecycle.x: its block is skipped (-Skip): a part it needs (Tomcat 10, PostgreSQL, MariaDB, javac) is not installed here' }
        @{ Skip = 'Pester: Snapshot.disk: tmpfs could not be mounted' }
        @{ Skip = '' }
    ) { Test-SkipAllowedInCI $Skip | Should -BeFalse }
}

Describe 'build.ps1' {
    BeforeAll {
        $BuildScript = Join-Path $env:EXOBACKUP_TESTS '../build.ps1'
        # The argument of the Install-Prerequisites call in one of build.ps1's task functions (its syntax tree).
        function Get-TaskInstall([string] $Function) {
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($BuildScript, [ref]$null, [ref]$null)
            $fn = $ast.Find({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $n.Name -eq $Function }, $true)
            $call = $fn.Body.Find({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Install-Prerequisites' }, $true)
            $call.CommandElements[1]
        }
    }
    It 'installs only through Install-Prerequisite' {
        $text = Get-Content $BuildScript -Raw
        $text | Should -Not -Match 'apt-get'
        $text | Should -Match 'Install-Prerequisite -Name'
    }
    It 'has the Bench task ask for restic and borgbackup, its peers' {
        $list = @((Get-TaskInstall 'Invoke-Bench').SafeGetValue())
        $list | Should -Contain 'restic'
        $list | Should -Contain 'borgbackup'
        Get-Prerequisite -Name $list | Should -HaveCount $list.Count -Because 'each has a probe'
    }
    It 'has the Test task (what CI runs) install the default list, without restic or borgbackup' {
        (Get-TaskInstall 'Invoke-Tests').Extent.Text | Should -Be '(Get-Prerequisite).Package'
        (Get-Prerequisite).Package | Should -Not -Contain 'restic'
        (Get-Prerequisite).Package | Should -Not -Contain 'borgbackup'
    }
}
