#!/usr/bin/env bash
# Coverage-guided fuzzing of the gossip receive path, of the Linux probes reading hostile kernel
# files, of the JSON readers, of the simulator's scenario loader and simulator, or of the macOS or
# Windows probes over hostile OS answers: AFL++ drives CostModel.Fuzz through SharpFuzz's fork
# server, with CostModel.dll (and, for the probes, CostModel.Platforms.dll; for scenarios,
# CostModel.Testing.dll) instrumented by the SharpFuzz.CommandLine tool.
#
#   benchmarks/CostModel.Fuzz/run.sh [SECONDS]     (default 60; hours-long runs: run.sh 14400)
#
# Installs what is missing (afl++ from Debian's packages, the sharpfuzz tool into the work folder),
# publishes Release, instruments CostModel.dll, fuzzes for SECONDS, prints AFL's figures, and
# replays every crash on a fresh target. Crash inputs are copied to benchmarks/CostModel.Fuzz/crashes/
# (named by content hash); the exit status is 1 when there are any.
#
# Environment: COSTMODEL_FUZZ_TARGET (gossip, linux, json, scenario, mac or win; default gossip) is what is fuzzed: the
# receive path (GossipReceiverTarget.cs), a machine's /proc and /sys under the probes
# (LinuxMachineTarget.cs), the JSON readers (JsonTarget.cs), scenario files under the simulator's
# loader and a short run of each (ScenarioTarget.cs), or a Mac's answers under the macOS
# probes (MacMachineTarget.cs, on any OS), or a Windows laptop's Win32 answers under the Windows probes
# (WinMachineTarget.cs, on any OS; its GPUs' PDH, DXGI and NVML answers included); COSTMODEL_FUZZ_MACHINE (laptop or docker-v1; default laptop) saying which
# machine (LinuxMachine.cs). COSTMODEL_FUZZ_MESH (open, signed or encrypted; default open) is the
# receiver's mesh: in a keyed one every wrapped input is sealed with the mesh's key (FuzzMesh.cs).
# FUZZ_WORK (default artifacts/fuzz, artifacts/fuzz-signed, artifacts/fuzz-encrypted,
# artifacts/fuzz-linux, artifacts/fuzz-linux-docker-v1, artifacts/fuzz-json, artifacts/fuzz-scenario, artifacts/fuzz-mac or artifacts/fuzz-win,
# ignored by git) holds
# the build, the tool and AFL's findings; an existing
# findings folder is resumed, FUZZ_FRESH=1 starts over.
# COSTMODEL_FUZZ_INPUTS_PER_RECEIVER (default 10000) is how many inputs one receiver serves before
# a fresh one replaces it; 1 makes every input independent of the ones before (Program.cs).
# One fuzzing process: the project's machines have two cores, shared with the build and others.
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${COSTMODEL_FUZZ_TARGET:-gossip}"
mesh="${COSTMODEL_FUZZ_MESH:-open}"
instrumented="CostModel.dll"
case "$target" in
  gossip)
    case "$mesh" in
      open) default_work="$repo/artifacts/fuzz" ;;
      signed|encrypted) default_work="$repo/artifacts/fuzz-$mesh" ;;
      *) echo "COSTMODEL_FUZZ_MESH='$mesh' names no mesh: use open, signed or encrypted." >&2; exit 2 ;;
    esac
    what="$mesh mesh" ;;
  linux)
    machine="${COSTMODEL_FUZZ_MACHINE:-laptop}"
    case "$machine" in
      laptop) default_work="$repo/artifacts/fuzz-linux" ;;
      docker-v1) default_work="$repo/artifacts/fuzz-linux-$machine" ;;
      *) echo "COSTMODEL_FUZZ_MACHINE='$machine' names no machine: use laptop or docker-v1." >&2; exit 2 ;;
    esac
    export COSTMODEL_FUZZ_MACHINE="$machine"
    instrumented="CostModel.dll CostModel.Platforms.dll"
    what="Linux machine ($machine)" ;;
  json)
    default_work="$repo/artifacts/fuzz-json"
    what="JSON readers" ;;
  scenario)
    default_work="$repo/artifacts/fuzz-scenario"
    instrumented="CostModel.dll CostModel.Testing.dll"
    # One processor as the runtime sees it: the simulator then delivers gossip and runs its rounds on
    # one thread (MeshSimulator: parallel only with more than one), so an input takes the same path
    # every time and AFL can tell new paths from the threads' interleaving.
    export DOTNET_PROCESSOR_COUNT=1
    what="scenario loader and simulator" ;;
  mac)
    default_work="$repo/artifacts/fuzz-mac"
    instrumented="CostModel.dll CostModel.Platforms.dll"
    what="macOS probes (an Apple-silicon MacBook on battery)" ;;
  win)
    default_work="$repo/artifacts/fuzz-win"
    instrumented="CostModel.dll CostModel.Platforms.dll"
    what="Windows probes (a Windows laptop on battery)" ;;
  *) echo "COSTMODEL_FUZZ_TARGET='$target' names no target: use gossip, linux, json, scenario, mac or win." >&2; exit 2 ;;
esac
export COSTMODEL_FUZZ_TARGET="$target" COSTMODEL_FUZZ_MESH="$mesh"
work="${FUZZ_WORK:-$default_work}"
sharpfuzz_version=2.3.0

# --- what is missing -------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "== installing afl++ (Debian package)"
  sudo_=""
  if [ "$(id -u)" != 0 ]; then sudo_=sudo; fi
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi

mkdir -p "$work"
if [ ! -x "$work/tools/sharpfuzz" ]; then
  echo "== installing SharpFuzz.CommandLine $sharpfuzz_version into $work/tools"
  dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$work/tools" >/dev/null
fi

# --- build and instrument --------------------------------------------------------------------
# Published into a folder of its own, emptied first: the tool rewrites CostModel.dll in place, and
# a publish over an instrumented copy would leave it (newer than the build's) to be instrumented twice.
echo "== publishing Release"
rm -rf "$work/app"
dotnet publish "$here/CostModel.Fuzz.csproj" -c Release -o "$work/app" --nologo -v quiet
# The seeds, written by this build (each checked to be accepted), so that they follow the wire
# format of the code being fuzzed: a committed copy went stale when the state layout grew, and AFL
# then started from records every receiver refused.
echo "== writing the seed corpus"
rm -rf "$work/seeds"
dotnet "$work/app/CostModel.Fuzz.dll" --write-corpus "$work/seeds" >/dev/null
for dll in $instrumented; do
  echo "== instrumenting $dll"
  "$work/tools/sharpfuzz" "$work/app/$dll"
done

# --- fuzz ------------------------------------------------------------------------------------
if [ "${FUZZ_FRESH:-0}" = 1 ]; then rm -rf "$work/findings"; fi
inputs="$work/seeds"
if [ -f "$work/findings/default/fuzzer_stats" ]; then
  inputs=-   # AFL's "resume": the queue already in the findings folder is the corpus
  echo "== resuming the findings in $work/findings (FUZZ_FRESH=1 starts over)"
fi

echo "== afl-fuzz for $seconds s, $what"
# AFL_SKIP_BIN_CHECK: the binary AFL starts is dotnet, which has no AFL instrumentation itself
#   (the coverage comes from the instrumented CostModel.dll through SharpFuzz's shared memory).
# AFL_FORKSRV_INIT_TMOUT: the runtime starts and builds the target (a receiver that proves its
#   sender, a machine tree under the probes) before the fork server answers: seconds, not AFL's
#   native-program default.
# AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES, AFL_SKIP_CPUFREQ, AFL_NO_AFFINITY: a container or VM
#   without control of core dumps, the CPU governor or core binding (and a crash here is an
#   exception SharpFuzz reports, never a core dump).
# -t 2000: a hang is an input that takes 2 s (one normally takes well under a millisecond);
#   SharpFuzz's in-process fork server cannot survive one, so AFL stops and the input is in
#   $work/findings/default/.cur_input.
# -m none: the .NET runtime reserves far more address space than AFL's default memory limit.
status=0
AFL_SKIP_BIN_CHECK=1 \
AFL_FORKSRV_INIT_TMOUT=60000 \
AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
AFL_SKIP_CPUFREQ=1 \
AFL_NO_AFFINITY=1 \
AFL_NO_UI=1 \
  afl-fuzz -i "$inputs" -o "$work/findings" -t 2000 -m none -V "$seconds" \
    -- dotnet "$work/app/CostModel.Fuzz.dll" > "$work/afl.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  echo "afl-fuzz exited with $status; its log ($work/afl.log) ends:" >&2
  tail -n 30 "$work/afl.log" >&2
  exit "$status"
fi

# --- figures and crashes ---------------------------------------------------------------------
stats="$work/findings/default/fuzzer_stats"
echo "== figures ($stats)"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|edges_found|total_edges|stability|saved_crashes|saved_hangs)\b' "$stats"

found=0
for crash in "$work/findings/default/crashes"/id:*; do
  [ -f "$crash" ] || continue
  found=$((found + 1))
  mkdir -p "$here/crashes"
  cp "$crash" "$here/crashes/crash-$(sha1sum "$crash" | cut -c1-16)"
done
if [ "$found" -gt 0 ]; then
  echo "== $found crash input(s), copied to $here/crashes; replayed on a fresh target:"
  # A crash may need what earlier inputs left in the target (one serves 10,000 inputs); an input
  # that replays clean alone is such a case: replay it after the queue entry its name gives as
  # src (--replay-sequence QUEUE-ENTRY CRASH).
  dotnet "$work/app/CostModel.Fuzz.dll" --replay "$work/findings/default/crashes"/id:* || true
  exit 1
fi
echo "== no crashes"
