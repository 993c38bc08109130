#!/usr/bin/env bash
# Debian packages the build needs beyond a C toolchain: kcat-lite's librdkafka links the
# system OpenSSL (libssl-dev, found with pkg-config) and Cyrus SASL (libsasl2-dev, for
# GSSAPI) so that it reaches TLS and SASL listeners (docs/kcat-lite-security.md).
# Installs the missing ones with apt-get (sudo when not root); run by `make build` and
# tests/run.sh.
set -euo pipefail
missing=()
for p in pkg-config libssl-dev libsasl2-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "installing ${missing[*]} (Debian packages for the build)" >&2
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
{ $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >/dev/null
