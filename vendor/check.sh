#!/usr/bin/env bash
# Proves each vendored crate is its crates.io release plus exactly the patches kept
# beside it: downloads the .crate (cached in $LAKEPIPE_CACHE/crates), checks its sha256
# against vendor/CHECKSUMS and, when the registry index answers, against the index's
# cksum; unpacks it, drops the folders we leave out (CRATE.exclude), applies
# CRATE-NNNN-*.patch in order and compares the result with vendor/CRATE byte for byte.
# Also fails when code outside vendor/ names a symbol only the patched copy has.
set -euo pipefail
cd "$(dirname "$0")"
CACHE="${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}/crates"
mkdir -p "$CACHE"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail=0

index_path() { # crates.io sparse index path of a crate name
  local n=$1
  case ${#n} in
    1) echo "1/$n" ;; 2) echo "2/$n" ;; 3) echo "3/${n:0:1}/$n" ;;
    *) echo "${n:0:2}/${n:2:2}/$n" ;;
  esac
}

while read -r crate version sum; do
  [[ -z $crate || $crate == \#* ]] && continue
  file="$CACHE/$crate-$version.crate"
  if [[ ! -f $file ]]; then
    curl -sSfL --retry 3 -o "$file.part" "https://static.crates.io/crates/$crate/$crate-$version.crate"
    mv "$file.part" "$file"
  fi
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [[ $got != "$sum" ]]; then
    echo "vendor/check.sh: $crate $version: sha256 $got, CHECKSUMS says $sum" >&2
    rm -f "$file"
    exit 1
  fi
  if idx=$(curl -sSf --max-time 20 "https://index.crates.io/$(index_path "$crate")" 2>/dev/null); then
    cksum=$(grep -F "\"vers\":\"$version\"" <<<"${idx//\": \"/\":\"}" | grep -o '"cksum":"[0-9a-f]*"' | cut -d'"' -f4 || true)
    if [[ -n $cksum && $cksum != "$sum" ]]; then
      echo "vendor/check.sh: $crate $version: the registry index says $cksum, CHECKSUMS $sum" >&2
      exit 1
    fi
  fi
  tar -xzf "$file" -C "$WORK"
  src="$WORK/$crate-$version"
  if [[ -f $crate.exclude ]]; then
    while read -r gone; do
      [[ -n $gone && $gone != \#* ]] && rm -rf "${src:?}/$gone"
    done <"$crate.exclude"
  fi
  for p in "$crate"-[0-9][0-9][0-9][0-9]-*.patch; do
    [[ -e $p ]] || continue
    if ! patch -d "$src" -p1 -s --no-backup-if-mismatch <"$p"; then
      echo "vendor/check.sh: $p does not apply to $crate $version" >&2
      fail=1
    fi
  done
  if ! diff -r "$src" "$crate" >"$WORK/$crate.diff"; then
    echo "vendor/check.sh: vendor/$crate is not $crate $version plus its patches:" >&2
    head -50 "$WORK/$crate.diff" >&2
    fail=1
  else
    echo "vendor/$crate: $crate $version from crates.io plus $(ls "$crate"-[0-9]*-*.patch 2>/dev/null | wc -l) patch(es)"
  fi
done <CHECKSUMS

# nothing outside vendor/ may depend on what only the patched copies have
if grep -rn --include='*.rs' -E 'lakepipe_[a-z_]+' ../*/src ../*/tests 2>/dev/null \
  | grep -E '(parquet|hdfs_native)::lakepipe_'; then
  echo "vendor/check.sh: code outside vendor/ uses a symbol of a patched copy (above)" >&2
  fail=1
fi
exit $fail
