/**
 * Kind: the kernel NFS server's version settings, as an `/etc/nfs.conf.d` drop-in (`[nfsd]`
 * `vers3=n` for NFSv4.x only). Exports cannot choose NFS versions; nfsd does, server-wide.
 * Checked with `nfsconf --dump` (which reports syntax errors on stderr but exits 0, so its
 * messages are read); the server is restarted (versions need it) only when the file changed.
 */
import { CommandError, Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { render } from "../../core/render";
import { configFileKind } from "../../core/configFile";
import { commandProblems } from "../../core/hostChecks";
import { KernelNfsServerSpec, validateKernelNfsServer } from "./kernelNfsServerArgs";

export type KernelNfsServerState = { content: string; mode: string };

export const NFSCONF_CHECK = `set -u
t=$(mktemp)
trap 'rm -f -- "$t"' EXIT
cat > "$t"
out=$(nfsconf --file "$t" --dump 2>&1 >/dev/null)
rc=$?
if printf '%s\\n' "$out" | grep -E "error|warning" >&2; then exit 1; fi
exit $rc
`;

export function nfsdSettings(s: KernelNfsServerSpec): { key: string; value: string }[] {
  const out = [
    { key: "vers3", value: s.nfsv4Only ? "n" : "y" },
    { key: "vers4", value: "y" },
    { key: "vers4.0", value: s.disableNfs40 ? "n" : "y" },
    { key: "vers4.1", value: "y" },
    { key: "vers4.2", value: "y" },
  ];
  if (s.nfsv4Only) out.push({ key: "udp", value: "n" });
  if (s.threads !== undefined) out.push({ key: "threads", value: String(s.threads) });
  return out;
}

export function renderKernelNfsServer(s: KernelNfsServerSpec): string {
  return render("exports-nfsconf.hbs", { name: s.name, settings: nfsdSettings(s) });
}

async function check(host: Host, s: KernelNfsServerSpec, content: string): Promise<void> {
  const r = await host.run(["sh", "-c", NFSCONF_CHECK, "sh"], { stdin: content, check: false });
  if (r.code !== 0) {
    throw new CommandError(["nfsconf", "--dump", `(candidate for ${s.confPath})`], r.code, `nfsconf refused the new ${s.confPath}; the live file was left as it was:\n${(r.stderr + r.stdout).trim()}`, host.label);
  }
}

export const kind: HostKind<KernelNfsServerSpec, KernelNfsServerState> = {
  name: "KernelNfsServer",
  version: 1,
  validate: validateKernelNfsServer,
  async preflight(host, s) {
    return s.check ? commandProblems(host, "nfsconf", "nfs-common / nfs-kernel-server") : [];
  },
  ...configFileKind(renderKernelNfsServer, (s) => s.confPath),
  async apply(host, { spec, desired, live, log }) {
    const rewrite = !live || live.content !== desired.content;
    if (rewrite && spec.check) await check(host, spec, desired.content);
    if (rewrite || live.mode !== desired.mode) {
      await host.run(["mkdir", "-p", "--", spec.confPath.slice(0, spec.confPath.lastIndexOf("/")) || "/"]);
      await host.writeFileAtomic(spec.confPath, desired.content, { mode: desired.mode });
    }
    if (rewrite) {
      log(`wrote ${spec.confPath}; restarting nfsd (${spec.restartCommand.join(" ")})`);
      await host.run(spec.restartCommand);
    }
  },
  async remove(host, spec, _observed, log) {
    if (await host.removeFile(spec.confPath)) {
      log(`removed ${spec.confPath}; restarting nfsd`);
      await host.run(spec.restartCommand);
    }
  },
  id: (s) => `KernelNfsServer:${s.confPath}`,
};
