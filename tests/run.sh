#!/usr/bin/env bash
# `make test`: build every test binary once (one profile, one feature set), run the unit and
# CLI tests, start the real services, run the tests marked `#[ignore = "live: ..."]` (they
# need the services or a peer tool), and stop the services again (also when a test fails).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=ci
TARGET="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"
# cross-tool tests run the binaries of this same build
export LAKEPIPE_BIN="$TARGET/$PROFILE"
CARGO_TEST=(cargo test --profile "$PROFILE" --workspace --locked)
t0=$SECONDS
stamp() { echo "== [$((SECONDS - t0))s] $*"; }

# Debian packages the tests use: jq (jq-lite's compatibility test), tmux (tests in a real
# terminal: progress lines, presto-q's interactive shell), less (the shell's default pager),
# curl (PrestoDB's query info in the shell's cancel test)
missing=()
for p in jq tmux less curl; do command -v "$p" >/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  stamp "installing ${missing[*]} (Debian packages)"
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 || sudo apt-get install -y -qq "${missing[@]}"
fi

bash tests/build-deps.sh

stamp "vendored crates: crates.io releases plus their patches"
bash vendor/check.sh

# On any exit: stop a service download or start still under way (a failed build), then
# everything that was started.
cleanup() {
  if [[ -n ${up_pid:-} ]] && kill -0 "$up_pid" 2>/dev/null; then
    kill "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
  fi
  bash services/down.sh || true
}
trap cleanup EXIT
# services/up.sh ARGS in the background, its output in $UP_LOG; wait_up makes its failure
# fatal
UP_LOG="$(mktemp)"
up_in_background() {
  up_args="$*"
  bash services/up.sh "$@" ${TEST_SERVICES:-} >"$UP_LOG" 2>&1 &
  up_pid=$!
}
wait_up() {
  if ! wait "$up_pid"; then
    cat "$UP_LOG"
    echo "services/up.sh $up_args failed (above)" >&2
    exit 1
  fi
  up_pid=
  cat "$UP_LOG"
}
# The services download while the lints and the build run (network and unpacking: little
# CPU). They start only once every test binary is built, while the unit tests run: six
# idle JVMs beside a cold build slowed it by minutes on two cores.
stamp "services: downloading in the background (log: $UP_LOG)"
up_in_background --install-only

stamp "format and lints"
cargo fmt --all --check
# the ci profile, as the build below: build scripts (librdkafka's C build among them) and
# proc-macros are then compiled once for both
cargo clippy --profile "$PROFILE" --workspace --all-targets --locked -- -D warnings
# layering: the tools that never touch Parquet must not build Arrow/Parquet (lakepipe's
# `parquet` feature stays off for them)
if cargo tree --locked -e normal -p kcat-lite -p presto-q -p jq-lite -p hdfs-ls | grep -E '^[^a-z]*(arrow|parquet)[a-z-]* v'; then
  echo "kcat-lite, presto-q, jq-lite or hdfs-ls depends on Arrow/Parquet (above)" >&2
  exit 1
fi

stamp "build (every test binary, once)"
"${CARGO_TEST[@]}" --no-run

stamp "services: waiting for the downloads, then starting them in the background"
wait_up
up_in_background

stamp "unit and CLI tests"
"${CARGO_TEST[@]}"

stamp "services: waiting for up.sh"
wait_up
# shellcheck disable=SC1091
source services/.state/env.sh

stamp "service smoke tests"
bash services/smoke.sh services

stamp "live and interop tests (the ignored ones: real services and peers)"
bash tests/live.sh "${CARGO_TEST[@]}"

stamp "services teardown checks (down.sh, a taken port, nothing downloaded again)"
bash services/smoke.sh teardown
stamp "done"
