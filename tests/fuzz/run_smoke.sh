#!/usr/bin/env bash
# run_smoke.sh FUZZER SCRATCH_CORPUS SEED_CORPUS SECONDS: the ctest smoke run of one fuzz target. Runs every
# seed, then fuzzes for SECONDS; new inputs go to SCRATCH_CORPUS (in the build tree), never into the seeds.
set -euo pipefail
fuzzer="$1" scratch="$2" seeds="$3" seconds="$4"
mkdir -p "$scratch"
artifacts="$scratch/../artifacts-$(basename "$fuzzer")/"
mkdir -p "$artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$artifacts" "$scratch" "$seeds"
