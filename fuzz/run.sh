#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) from the committed seed corpus.
# New inputs go to a scratch copy, so the run leaves the checkout as it was; a crash
# leaves its input under fuzz/artifacts/<target>/ and fails the run.
#   fuzz/run.sh            # CI: 30 s a target
#   fuzz/run.sh 600        # a longer local run
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build --release
for target in $(cargo +nightly fuzz list); do
  mkdir -p "$scratch/$target"
  echo "== fuzz $target (${seconds}s)"
  cargo +nightly fuzz run --release "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|.*panicked)' || true
  # grep hides libFuzzer's chatter; the exit status comes from cargo fuzz itself.
  test "${PIPESTATUS[0]}" -eq 0
done
