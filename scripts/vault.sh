#!/usr/bin/env bash
# Build HashiCorp Vault (server, CLI and Agent: one binary) from its Go module at the version
# pinned in tools/vault/go.mod, cache it, and put `vault` on PATH: the Vault tests
# (test/integration/vault-secrets.test.ts) and docs/vault.md use it.
#
#   bash scripts/vault.sh          # idempotent; no network and about a second when cached
#
# Why a wrapper module: Vault's go.mod replaces github.com/hashicorp/vault/api, api/auth/* and
# sdk with in-tree folders that its module zip leaves out, so tools/vault/go.mod pins published
# versions that match the release's in-tree code (see the comment there for the pair chosen).
#
# Environment:
#   KVMSHARE_VAULT_CACHE    cache dir (default /var/cache/kvmshare/vault-<version>)
#   KVMSHARE_VAULT_BIN      where the `vault` symlink goes (default /usr/local/bin)
#   KVMSHARE_VAULT_FORCE=1  rebuild even when the cache is valid
set -euo pipefail

t_start=$(date +%s)
MOD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/vault"
log() { printf '[vault] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
command -v go >/dev/null 2>&1 || die "go is not on PATH"

# The Go installed here, no VCS stamping (the wrapper is a sub-folder of this repository).
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-} -buildvcs=false"

VERSION=$(cd "$MOD_DIR" && go mod edit -json | awk -F'"' '/"Path": "github.com\/hashicorp\/vault"/ { getline; sub(/^v/, "", $4); print $4; exit }')
[ -n "$VERSION" ] || die "no github.com/hashicorp/vault version in $MOD_DIR/go.mod"
CACHE="${KVMSHARE_VAULT_CACHE:-/var/cache/kvmshare/vault-$VERSION}"
BIN="${KVMSHARE_VAULT_BIN:-/usr/local/bin}"

# The cache is valid for this version, Go, platform and these exact wrapper files.
stamp=$( (cd "$MOD_DIR" && echo "$VERSION" && go env GOVERSION GOOS GOARCH && sha256sum go.mod go.sum tools.go) | sha256sum | cut -d' ' -f1)
cached() {
  [ -x "$CACHE/vault" ] && [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$stamp" ] &&
    "$CACHE/vault" version 2>/dev/null | grep -q "^Vault v$VERSION\b"
}

mkdir -p "$(dirname "$CACHE")"
exec 9>"$CACHE.lock" # one build at a time per cache dir
if command -v flock >/dev/null 2>&1; then flock 9; fi

mode=warm
if [ "${KVMSHARE_VAULT_FORCE:-0}" = 1 ] || ! cached; then
  mode=cold
  log "building Vault v$VERSION into $CACHE (the first build takes many minutes on 2 cores)"
  tmp=$(mktemp -d "$CACHE.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  t0=$(date +%s)
  # nice: the machine is shared; go.sum verifies every module it downloads.
  (cd "$MOD_DIR" && nice -n 15 go build -trimpath -ldflags "-s -w" -o "$tmp/vault" github.com/hashicorp/vault)
  log "built vault in $(($(date +%s) - t0))s"
  "$tmp/vault" version | grep -q "^Vault v$VERSION\b" || die "the built vault reports '$("$tmp/vault" version)', expected v$VERSION"
  echo "$stamp" >"$tmp/.stamp"
  chmod 0755 "$tmp"
  rm -rf "$CACHE"
  mv "$tmp" "$CACHE"
  trap - EXIT
else
  log "cache hit: $CACHE"
fi

mkdir -p "$BIN"
ln -sfn "$CACHE/vault" "$BIN/vault"
[ "$(command -v vault || true)" = "$BIN/vault" ] || log "warning: 'vault' on PATH is $(command -v vault || echo missing), not $BIN/vault"
log "$mode: $("$BIN/vault" version) ready in $BIN ($(($(date +%s) - t_start))s total)"
