/**
 * The servers' own parsers, run on a candidate export file before it replaces the live one.
 * Both scripts are constants: values arrive as positional parameters, the candidate on stdin.
 *
 * - kernel: `exportfs -ra` in a private mount namespace where /etc is an overlay (so
 *   /etc/exports.d can exist there even when it does not on the host), /etc/exports.d holds the
 *   other export files plus the candidate, /etc/exports the main file, and /var/lib/nfs is an
 *   empty directory: the host's real files and the kernel's export table are never touched.
 * - ganesha: it has no check mode, so a throw-away `ganesha.nfsd` starts in private mount and
 *   network namespaces (no port clash, D-Bus and /var/lib/nfs hidden) on a minimal main config
 *   that `%dir`-includes copies of the other export files and the candidate; any CONFIG error
 *   it logs at CRIT/MAJ/FATAL, or a warning about a config file line (an unknown parameter is
 *   only a warning to ganesha, and then silently ignored), refuses the candidate.
 */
import { CommandError, Host } from "../../core/connection";
import { inactiveClients } from "./nfsParse";
import { NfsExportSpec } from "./nfsExportArgs";

export const EXPORTFS_CHECK = `set -eu
dir=$1 self=$2 main=$3
mount --make-rprivate /
t=$(mktemp -d)
cleanup() { umount /var/lib/nfs 2>/dev/null || :; umount /etc/exports.d 2>/dev/null || :; umount /etc 2>/dev/null || :; rm -rf -- "$t"; }
trap cleanup EXIT
mkdir "$t/up" "$t/work" "$t/d" "$t/lib"
if [ -d "$dir" ]; then
  for f in "$dir"/*.exports; do
    [ -f "$f" ] || continue
    [ "\${f##*/}" = "$self" ] && continue
    cp -- "$f" "$t/d/"
  done
fi
cat > "$t/d/$self"
if [ -n "$main" ] && [ -f "$main" ]; then cat -- "$main" > "$t/exports"; else : > "$t/exports"; fi
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$t/up,workdir=$t/work" /etc
mkdir -p /etc/exports.d
mount --bind "$t/d" /etc/exports.d
cat -- "$t/exports" > /etc/exports
if [ -d /var/lib/nfs ]; then mount --bind "$t/lib" /var/lib/nfs; fi
exportfs -ra
# The table exportfs built: names that do not resolve are dropped from it with only a warning.
if [ -f /var/lib/nfs/etab ]; then cat /var/lib/nfs/etab; fi
`;

export const GANESHA_CHECK = `set -eu
dir=$1 self=$2 bin=$3
mount --make-rprivate /
t=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || :; wait "$pid" 2>/dev/null || :; fi
  umount /run/dbus 2>/dev/null || :; umount /var/lib/nfs 2>/dev/null || :
  rm -rf -- "$t"
}
trap cleanup EXIT
mkdir "$t/recov" "$t/empty" "$t/lib" "$t/d"
if [ -d "$dir" ]; then
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    [ "\${f##*/}" = "$self" ] && continue
    cp -- "$f" "$t/d/"
  done
fi
cat > "$t/d/$self"
printf 'NFS_CORE_PARAM { Enable_NLM = false; Enable_RQUOTA = false; Protocols = 4; }\\nNFSV4 { Graceless = true; RecoveryRoot = "%s"; }\\n%%dir "%s"\\n' "$t/recov" "$t/d" > "$t/ganesha.conf"
if [ -d /run/dbus ]; then mount --bind "$t/empty" /run/dbus; fi
if [ -d /var/lib/nfs ]; then mount --bind "$t/lib" /var/lib/nfs; fi
ip link set lo up 2>/dev/null || :
"$bin" -F -f "$t/ganesha.conf" -L "$t/log" -p "$t/pid" &
pid=$!
i=0
while [ $i -lt 300 ]; do
  if grep -q "SERVER INITIALIZED" "$t/log" 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
  i=$((i+1))
done
if ! grep -q "SERVER INITIALIZED" "$t/log" 2>/dev/null; then
  echo "ganesha did not start on the candidate config:" >&2
  tail -n 20 "$t/log" >&2 || :
  exit 1
fi
if grep -E ':CONFIG :(CRIT|MAJ|FATAL)|:CONFIG :WARN :Config File \\(' "$t/log" > "$t/errors"; then
  sed -e 's/^.*:CONFIG :/CONFIG /' "$t/errors" >&2
  echo "(files checked as copies in $t/d)" >&2
  exit 1
fi
`;

/** The argv that checks a candidate for this export (the candidate goes on stdin). */
export function checkArgv(spec: NfsExportSpec): string[] {
  const self = spec.file.slice(spec.file.lastIndexOf("/") + 1);
  if (spec.backend === "ganesha") {
    return ["unshare", "-m", "-n", "sh", "-c", GANESHA_CHECK, "sh", spec.exportsDir, self, "ganesha.nfsd"];
  }
  return ["unshare", "-m", "sh", "-c", EXPORTFS_CHECK, "sh", spec.exportsDir, self, spec.mainExportsFile ?? ""];
}

/** Run the server's parser on `content`; throws an error quoting the server's complaint. */
export async function checkExport(host: Host, spec: NfsExportSpec, content: string): Promise<void> {
  const r = await host.run(checkArgv(spec), { stdin: content, check: false, timeoutMs: 60_000 });
  if (r.code !== 0) {
    const server = spec.backend === "ganesha" ? "ganesha.nfsd" : "exportfs";
    const msg = (r.stderr + r.stdout).trim().split("\n").slice(-15).join("\n");
    throw new CommandError([server, "(check of " + spec.file + ")"], r.code, `${server} refused the new ${spec.file}; the live file was left as it was:\n${msg}`, host.label);
  }
  if (spec.backend === "kernel" && r.stdout.trim()) {
    const missing = inactiveClients(r.stdout, spec.path, spec.clients.map((c) => c.host));
    if (missing.length) {
      const warnings = r.stderr.trim().split("\n").filter((l) => missing.some((m) => l.includes(m))).join("\n");
      throw new CommandError(
        ["exportfs", "(check of " + spec.file + ")"],
        1,
        `exportfs accepted ${spec.file} but would not export ${spec.path} to ${missing.join(", ")}; the live file was left as it was.` +
          (warnings ? `\n${warnings}` : "") +
          "\nUse the clients' addresses, or make the names resolve on the NFS server.",
        host.label,
      );
    }
  }
}
