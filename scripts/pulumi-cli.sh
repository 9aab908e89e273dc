#!/usr/bin/env bash
# Build the Pulumi CLI and a Node.js language host from Go modules, cache them
# by version and install them on PATH, so that `pulumi` and the Automation API
# work on a machine whose only network is the Go module proxy.
#
#   bash scripts/pulumi-cli.sh          # idempotent; seconds when cached
#
# What gets installed (symlinks into $KVMSHARE_PULUMI_BIN, default /usr/local/bin):
#   pulumi                         github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
#   pulumi-language-nodejs         tools/pulumi-cli/cmd/pulumi-language-nodejs
#                                  (kvmshare's own host: the Go module proxy refuses
#                                  to serve upstream's nested language-host module)
#   pulumi-resource-pulumi-nodejs  the dynamic-provider launcher shipped in
#                                  github.com/pulumi/pulumi/sdk/v3 nodejs/dist
#
# The version is the one pinned in tools/pulumi-cli/go.mod (pkg/v3 and sdk/v3);
# keep it equal to the @pulumi/pulumi version in package.json.
#
# Environment:
#   KVMSHARE_PULUMI_CACHE  build/cache dir (default /var/cache/kvmshare/pulumi-<version>)
#   KVMSHARE_PULUMI_BIN    where the symlinks go (default /usr/local/bin)
#   KVMSHARE_PULUMI_FORCE=1  rebuild even when the cache is valid
#
# For offline use of the installed CLI export:
#   PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# plus a local backend (pulumi login file://...) and PULUMI_CONFIG_PASSPHRASE.
set -euo pipefail

t_start=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MOD_DIR="$ROOT/tools/pulumi-cli"

log() { printf '[pulumi-cli] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

# Build with the Go installed here unless the caller chose a toolchain; keep VCS
# stamping off (the wrapper module is a sub-folder of this repo).
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
case " ${GOFLAGS:-} " in
  *" -buildvcs=false "*) ;;
  *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;;
esac

VERSION=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { sub(/^v/, "", $2); print $2; exit }' "$MOD_DIR/go.mod")
[ -n "$VERSION" ] || die "could not read the github.com/pulumi/pulumi/pkg/v3 version from $MOD_DIR/go.mod"
SDK_VERSION=$(awk '$1 == "github.com/pulumi/pulumi/sdk/v3" { sub(/^v/, "", $2); print $2; exit }' "$MOD_DIR/go.mod")
[ "$SDK_VERSION" = "$VERSION" ] || die "tools/pulumi-cli/go.mod pins pkg/v3 v$VERSION but sdk/v3 v$SDK_VERSION"

npm_pkg="$ROOT/node_modules/@pulumi/pulumi/package.json"
if [ -f "$npm_pkg" ]; then
  npm_version=$(node -p "require('$npm_pkg').version" 2>/dev/null || true)
  if [ -n "$npm_version" ] && [ "$npm_version" != "$VERSION" ]; then
    log "warning: node_modules has @pulumi/pulumi $npm_version but the CLI is pinned to $VERSION"
  fi
fi

CACHE="${KVMSHARE_PULUMI_CACHE:-/var/cache/kvmshare/pulumi-$VERSION}"
BIN="${KVMSHARE_PULUMI_BIN:-/usr/local/bin}"
BINARIES=(pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs)

# Stamp: what the cached binaries were built from (versions + wrapper sources).
stamp=$(cd "$MOD_DIR" && { echo "$VERSION"; go env GOVERSION GOOS GOARCH; \
  find go.mod go.sum tools.go cmd -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)

cache_ok() {
  local b
  for b in "${BINARIES[@]}"; do
    [ -x "$CACHE/$b" ] || return 1
  done
  [ "$(cat "$CACHE/.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$CACHE/pulumi" version 2>/dev/null)" = "v$VERSION" ] || return 1
}

mkdir -p "$(dirname "$CACHE")"
# One build at a time per cache dir.
exec 9>"$CACHE.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

mode=warm
if [ "${KVMSHARE_PULUMI_FORCE:-0}" = 1 ] || ! cache_ok; then
  mode=cold
  log "building Pulumi CLI v$VERSION into $CACHE (first build takes a long time on 2 cores)"
  cd "$MOD_DIR"
  # Fetch only what the build needs (go.sum verifies it); no-op when cached.
  go mod download github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3
  sdk_dir=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
  [ -f "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" ] ||
    die "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs not found"

  tmp=$(mktemp -d "$CACHE.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION"

  t0=$(date +%s)
  go build -trimpath -ldflags "$ldflags" -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  t1=$(date +%s)
  log "built pulumi in $((t1 - t0))s"
  go build -trimpath -ldflags "$ldflags" -o "$tmp/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs
  t2=$(date +%s)
  log "built pulumi-language-nodejs in $((t2 - t1))s"
  install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$tmp/pulumi-resource-pulumi-nodejs"
  echo "$stamp" > "$tmp/.stamp"

  got=$(PULUMI_SKIP_UPDATE_CHECK=true "$tmp/pulumi" version)
  [ "$got" = "v$VERSION" ] || die "built pulumi reports '$got', expected v$VERSION"

  rm -rf "$CACHE.old"
  if [ -e "$CACHE" ]; then mv "$CACHE" "$CACHE.old"; fi
  mv "$tmp" "$CACHE"
  chmod 0755 "$CACHE"
  rm -rf "$CACHE.old"
  trap - EXIT
else
  log "cache hit: $CACHE (pulumi v$VERSION)"
fi

mkdir -p "$BIN"
for b in "${BINARIES[@]}"; do
  ln -sfn "$CACHE/$b" "$BIN/$b"
done

if ! command -v node >/dev/null 2>&1; then
  log "warning: node is not on PATH; the Node.js language host needs it"
fi
resolved=$(command -v pulumi || true)
if [ "$resolved" != "$BIN/pulumi" ]; then
  log "warning: 'pulumi' on PATH is ${resolved:-missing}, not $BIN/pulumi"
fi

t_end=$(date +%s)
log "$mode: pulumi v$VERSION ready in $BIN ($((t_end - t_start))s total)"
