#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) from the committed seed corpus.
# New inputs go to a scratch copy, so the run leaves the checkout as it was; a crash
# leaves its input under fuzz/artifacts/<target>/ and fails the run.
#   fuzz/run.sh            # CI: 30 s a target
#   fuzz/run.sh 600        # a longer local run
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
# Outside the checkout, so a clean clone reuses an earlier build on this machine.
target_dir="${PLINTH_FUZZ_TARGET_DIR:-$HOME/.cache/plinth-fuzz-target}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build --release --target-dir "$target_dir"
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target"
  echo "== fuzz $target (${seconds}s)"
  if ! cargo +nightly fuzz run --release --target-dir "$target_dir" "$target" \
    "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
    tail -n 60 "$scratch/$target.log"
    echo "fuzz target $target failed: its input is under fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$scratch/$target.log"
done
