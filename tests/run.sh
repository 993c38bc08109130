#!/usr/bin/env bash
# `make test`: unit and CLI tests, then start the real services, run the tests that need
# them, and stop the services again (also when a test fails).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release"
export LAKEPIPE_BIN="$BIN"

# jq-lite's compatibility test compares with Debian's jq
if ! command -v jq >/dev/null; then
  echo "== installing jq (Debian package) for jq-lite's compatibility test"
  { apt-get update -qq && apt-get install -y -qq jq; } >/dev/null 2>&1 || sudo apt-get install -y -qq jq
fi

echo "== unit and CLI tests"
cargo test --release --workspace --locked

echo "== services"
trap 'bash services/down.sh || true' EXIT
bash services/up.sh ${TEST_SERVICES:-}
# shellcheck disable=SC1091
source services/.state/env.sh

echo "== service smoke tests"
bash services/smoke.sh

echo "== interop and live tests (every crate with a 'live' test target)"
for manifest in */Cargo.toml; do
  grep -q '^live = \[\]' "$manifest" || continue
  pkg=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)
  cargo test --release --locked -p "$pkg" --features live --test live
done
