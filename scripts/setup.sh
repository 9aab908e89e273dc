#!/usr/bin/env bash
# One-time set-up on a fresh Debian 12 machine: system packages, then node modules.
# Usage, as root (a fresh Debian has no sudo): bash scripts/setup.sh
# (or: sudo bash scripts/setup.sh). Idempotent; skips apt when every package is present, so a
# user without root can re-run it for npm ci once the packages are in.
set -euo pipefail
cd "$(dirname "$0")/.."
# The real Pulumi engine: the CLI and its Node.js language host, built from Go modules and cached
# by version (minutes the first time, a second afterwards; see scripts/pulumi-cli.sh). It needs
# only Go, so it builds while apt and npm download and unpack (a cold set-up waits once, not twice).
pulumi_log=$(mktemp /tmp/kvmshare-pulumi-cli.XXXXXX)
bash scripts/pulumi-cli.sh >"$pulumi_log" 2>&1 &
pulumi_pid=$!
trap 'kill "$pulumi_pid" 2>/dev/null || true' EXIT
mapfile -t pkgs < <(grep -v '^\s*#' scripts/debian-packages.txt | sed '/^\s*$/d')
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    echo "setup: run it as root (bash scripts/setup.sh in a root shell, or sudo bash scripts/setup.sh)" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The KDC and FreeRADIUS packages start their daemons with the stock config on install; the
  # tests start their own with private configs and ports (and kill them by PID), so the system's
  # ones are stopped and disabled (best effort: no systemd in some containers).
  for unit in krb5-kdc krb5-admin-server freeradius; do
    if systemctl list-unit-files "$unit.service" >/dev/null 2>&1; then systemctl disable --now "$unit" >/dev/null 2>&1 || true; fi
  done
else
  echo "setup: all ${#pkgs[@]} Debian packages present"
fi
# Debian starts some daemons on install; the tests start their own on private ports and
# never rely on (or stop) the system's ones.
npm ci --no-audit --no-fund
pulumi_rc=0
wait "$pulumi_pid" || pulumi_rc=$?
trap - EXIT
cat "$pulumi_log"; rm -f "$pulumi_log"
[ "$pulumi_rc" -eq 0 ] || { echo "setup: scripts/pulumi-cli.sh failed (exit $pulumi_rc), see above" >&2; exit "$pulumi_rc"; }
# HashiCorp Vault (server, CLI and Agent), for the Vault tests and docs/vault.md: built from its Go
# module at the version pinned in tools/vault/go.mod and cached the same way; see scripts/vault.sh.
# KVMSHARE_SETUP_VAULT=later leaves it to the caller (.ci/run builds it in the background while
# the first lanes run; the Vault tests wait for that build, or run scripts/vault.sh themselves).
if [ "${KVMSHARE_SETUP_VAULT:-now}" = later ]; then
  echo "setup: Vault left for later (KVMSHARE_SETUP_VAULT=later): bash scripts/vault.sh"
else
  bash scripts/vault.sh
fi
