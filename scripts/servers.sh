#!/usr/bin/env bash
# Installs the Debian server packages the tests start private instances of (never the system
# service: tests run their own on loopback with temporary data directories), and the openssl
# CLI the TLS tests and `pnpm demo --tls` make their certificates with. Idempotent and quick
# when everything is present. Usage: scripts/servers.sh [package ...]
set -euo pipefail

declare -A probe=(
  [etcd-server]='command -v etcd'
  [postgresql]='ls /usr/lib/postgresql/*/bin/initdb'
  [rabbitmq-server]='test -x /usr/lib/rabbitmq/bin/rabbitmq-server && command -v epmd'
  [redis-server]='command -v redis-server'
  [openssl]='command -v openssl'
  [chromium]='command -v chromium'
)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${!probe[@]}")

missing=()
for pkg in "${wanted[@]}"; do
  check=${probe[$pkg]:-"dpkg -s $pkg"}
  eval "$check" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo='sudo -n'; else
    echo "servers.sh: missing Debian packages: ${missing[*]} (install them as root: apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

echo "servers.sh: installing ${missing[*]}" >&2
# Keep the packages' own system services from starting: tests run private instances.
# SERVERS_POLICY_RC_D moves it, for the script's own test only.
policy=${SERVERS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
# An EXIT trap's last status becomes the script's: it must end true when there is nothing to remove.
cleanup() { if [ "$created_policy" = 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "servers.sh: installed ${missing[*]}" >&2
