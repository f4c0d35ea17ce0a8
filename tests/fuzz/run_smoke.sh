#!/usr/bin/env bash
# run_smoke.sh FUZZER SCRATCH_CORPUS SEED_CORPUS RUNS: the ctest smoke run of one fuzz target, deterministic.
# Replays every seed, then runs a fixed number of mutations from a fixed seed (-seed=1, -runs=RUNS counted after
# the seeds) starting from an emptied scratch corpus, so two runs of the same build execute the same inputs.
# New inputs go to SCRATCH_CORPUS (in the build tree), never into the seeds; a crash leaves its input in
# SCRATCH_CORPUS/../artifacts-<fuzzer>/. No wall-clock bound: the ctest TIMEOUT is the safety net.
set -euo pipefail
fuzzer="$1" scratch="$2" seeds="$3" runs="$4"
rm -rf "$scratch"
mkdir -p "$scratch"
artifacts="$scratch/../artifacts-$(basename "$fuzzer")/"
mkdir -p "$artifacts"
nseeds=$(find "$seeds" -maxdepth 1 -type f | wc -l)
exec "$fuzzer" -seed=1 -runs="$((runs + nseeds))" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$artifacts" "$scratch" "$seeds"
