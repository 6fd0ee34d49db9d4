# Backup-ExoPlatform -PingUrl and -MetricsFile: a real local HTTP listener records the pings, and
# the textfile is parsed as Prometheus' text format.
BeforeAll {
    . (Join-Path $env:EXOBACKUP_TESTS 'Support/Common.ps1') -Name 'monitoring-tests'
    $B = New-Bundle 'exo' -FileCount 20 -LargeFileCount 0

    function Start-PingListener {
        <# An HttpListener on a free local port, in a thread job, answering 200 and recording each request's path and body. #>
        $tcp = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $tcp.Start(); $port = $tcp.LocalEndpoint.Port; $tcp.Stop()
        $prefix = "http://127.0.0.1:$port/"
        $log = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
        $listener = [System.Net.HttpListener]::new(); $listener.Prefixes.Add($prefix); $listener.Start()
        $job = Start-ThreadJob -ArgumentList $listener, $log {
            param($listener, $log)
            while ($listener.IsListening) {
                try { $ctx = $listener.GetContext() } catch { break }
                $body = [System.IO.StreamReader]::new($ctx.Request.InputStream).ReadToEnd()
                $log.Enqueue("$($ctx.Request.HttpMethod) $($ctx.Request.Url.AbsolutePath) $body")
                $ctx.Response.StatusCode = 200; $ctx.Response.Close()
            }
        }
        [pscustomobject]@{ Url = "${prefix}ping/secret-uuid"; Log = $log; Listener = $listener; Job = $job }
    }
    function Read-Metrics([string] $File) {
        <# name -> value, checking each sample line has the text format's shape. #>
        $m = @{}
        foreach ($line in Get-Content $File) {
            if ($line -match '^# (HELP|TYPE) ') { continue }
            $line | Should -Match '^[a-z_]+\{repository="[^"]*",platform="[^"]*"\} [-0-9.eE+]+$'
            $m[$line.Split('{')[0]] = [double]$line.Split(' ')[-1]
        }
        $m
    }
    $L = Start-PingListener
}
AfterAll {
    if ($L) { $L.Listener.Stop(); $L.Job | Remove-Job -Force }
    Clear-TestRoot $Root
}

Describe 'A watched backup' {
    It 'pings start then success, and writes the textfile' {
        $metrics = "$Root/metrics/exobackup.prom"
        New-Item -ItemType Directory (Split-Path $metrics) | Out-Null
        $s = Backup-ExoPlatform -Platform $B.Home -Repository "$Root/repo" -Component DataDir, Configuration -PingUrl $L.Url -MetricsFile $metrics
        $s.Status | Should -Be 'Complete'
        Start-Sleep -Milliseconds 200
        $pings = @($L.Log.ToArray())
        $pings[0] | Should -BeLike 'POST /ping/secret-uuid/start*'
        $pings[-1] | Should -BeLike "POST /ping/secret-uuid snapshot $($s.Id)*"
        $m = Read-Metrics $metrics
        $m['exobackup_last_run_success'] | Should -Be 1
        $m['exobackup_last_success_timestamp_seconds'] | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(-5).ToUnixTimeSeconds())
        $m['exobackup_last_snapshot_bytes'] | Should -Be ($s.Parts | Measure-Object StoredBytes -Sum).Sum
        $m['exobackup_last_snapshot_online'] | Should -Be 0
        (Get-Item $metrics).UnixFileMode.ToString() | Should -Match 'OtherRead'
        $script:LastSuccess = $m['exobackup_last_success_timestamp_seconds']
    }
    It 'pings fail with the error, and keeps the last success in the textfile' {
        $metrics = "$Root/metrics/exobackup.prom"
        while ($L.Log.TryDequeue([ref]$null)) { }
        $busy = "$Root/not-a-repo"; New-Item -ItemType Directory $busy | Out-Null; Set-Content "$busy/x" 'x'
        { Backup-ExoPlatform -Platform $B.Home -Repository $busy -Component DataDir -PingUrl $L.Url -MetricsFile $metrics } | Should -Throw -ErrorId 'ExoBackup.RepositoryNotEmpty,*'
        Start-Sleep -Milliseconds 200
        $pings = @($L.Log.ToArray())
        $pings[0] | Should -BeLike 'POST /ping/secret-uuid/start*'
        $pings[-1] | Should -BeLike 'POST /ping/secret-uuid/fail ExoBackup.RepositoryNotEmpty:*'
        $m = Read-Metrics $metrics
        $m['exobackup_last_run_success'] | Should -Be 0
        $m['exobackup_last_success_timestamp_seconds'] | Should -Be $script:LastSuccess
        $m.ContainsKey('exobackup_last_snapshot_bytes') | Should -BeFalse
    }
    It 'only warns, never fails, when the ping cannot be delivered, and never shows the URL''s secret' {
        $s = Backup-ExoPlatform -Platform $B.Home -Repository "$Root/repo" -Component Configuration -PingUrl 'http://127.0.0.1:9/ping/secret-uuid' -WarningVariable w -WarningAction SilentlyContinue
        $s.Status | Should -Be 'Complete'
        ($w -join ' ') | Should -Match 'ping to http://127.0.0.1:9/… failed'
        ($w -join ' ') | Should -Not -Match 'secret-uuid'
    }
}
