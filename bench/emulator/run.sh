#!/usr/bin/env bash
# Benchmark the Kustomer emulator: Release build, start it with rate limiting off, drive it with
# bench/emulator/LoadGen (GET externalId lookups, POST creates, PATCH updates), print the figures.
# Usage: bench/emulator/run.sh [seconds=15] [workers=32] [mix=get:60,post:20,patch:20]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-15}"; workers="${2:-32}"; mix="${3:-get:60,post:20,patch:20}"
out="$root/.tmp/bench-emulator"
mkdir -p "$out"

dotnet build "$root/src/KustomerSync.Emulator" -c Release -o "$out/emulator" -v q -nologo >/dev/null
dotnet build "$here/LoadGen" -c Release -o "$out/loadgen" -v q -nologo >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
dotnet "$out/emulator/KustomerSync.Emulator.dll" --urls "http://127.0.0.1:$port" --rate-limit 0 --search-rate-limit 0 --object-update-limit 0 >"$out/emulator.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true; wait $emu 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%dT%H:%MZ)"
head -1 "$out/emulator.log"
dotnet "$out/loadgen/LoadGen.dll" "http://127.0.0.1:$port" --seconds "$seconds" --workers "$workers" --mix "$mix"
