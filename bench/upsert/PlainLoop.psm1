# The plain Invoke-RestMethod loop an admin would write, the baseline of the upsert benchmarks: per row a lookup by
# externalId, then a create or an update, and on a 429 a wait for the reset (x-ratelimit-reset, epoch seconds).

function Invoke-PlainLoop {
    param([Parameter(Mandatory)] [string] $BaseUri, [Parameter(Mandatory)] [string] $Key, [Parameter(Mandatory)] $Rows)
    $headers = @{ Authorization = "Bearer $Key" }
    $script:loop429 = 0
    function Invoke-Kustomer([scriptblock] $Call, [switch] $NotFoundIsNull) {
        while ($true) {
            try { return & $Call }
            catch {
                $response = $_.Exception.Response
                if ($null -eq $response) { throw }
                $status = [int]$response.StatusCode
                if ($status -eq 404 -and $NotFoundIsNull) { return $null }
                if ($status -ne 429) { throw }
                $script:loop429++
                $values = $null
                $reset = if ($response.Headers.TryGetValues('x-ratelimit-reset', [ref] $values)) { [long]@($values)[0] - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds() } else { 1 }
                Start-Sleep -Seconds ([math]::Max(1, $reset))
            }
        }
    }
    $created = 0; $updated = 0
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    foreach ($row in $Rows) {
        $body = @{ externalId = $row.externalId; name = $row.name; emails = @(@{ email = $row.email })
            custom = @{ tierStr = $row.tierStr; lifetimeValueNum = $row.lifetimeValueNum } } | ConvertTo-Json -Depth 5
        $existing = Invoke-Kustomer -NotFoundIsNull { Invoke-RestMethod -Uri "$BaseUri/v1/customers/externalId=$([uri]::EscapeDataString($row.externalId))" -Headers $headers }
        if ($existing) {
            Invoke-Kustomer { Invoke-RestMethod -Method Patch -Uri "$BaseUri/v1/customers/$($existing.data.id)" -Headers $headers -Body $body -ContentType 'application/json' } | Out-Null
            $updated++
        } else {
            Invoke-Kustomer { Invoke-RestMethod -Method Post -Uri "$BaseUri/v1/customers" -Headers $headers -Body $body -ContentType 'application/json' } | Out-Null
            $created++
        }
    }
    $watch.Stop()
    [pscustomobject]@{ Created = $created; Updated = $updated; RateLimited = $script:loop429; Seconds = $watch.Elapsed.TotalSeconds }
}

Export-ModuleMember -Function Invoke-PlainLoop
