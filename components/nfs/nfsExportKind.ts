/**
 * Kind: one NFS export on a host, as a file in the server's exports directory
 * (`<name>.exports` for the kernel server, `<name>.conf` EXPORT block for NFS-Ganesha).
 * The server's own parser accepts the file before it goes live; the server is reloaded only
 * when the file changed. A hand edit of the file is reported as drift.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { probeFile } from "../../core/configFile";
import { exportProblems } from "../../core/hostChecks";
import { checkExport } from "./nfsChecks";
import { inactiveClients, parseGaneshaExports, parseKernelExports } from "./nfsParse";
import { renderNfsExport } from "./nfsRender";
import { NfsExportSpec, usesTls, validateNfsExport } from "./nfsExportArgs";
import { rpcTlsProblems } from "../../core/rpcTls";

/** The export file; for the kernel server also the declared clients missing from its export table. */
export type NfsExportState = { content: string; mode: string; inactiveClients?: string[] };

const MODE = "0644";

/**
 * ganesha's `%dir` includes every file of the directory, dot files too, and one syntax error
 * stops the daemon from starting. So the temp file of the atomic write is made in a staging
 * directory next to it (same file system) and renamed into place.
 */
const STAGED_WRITE = `set -e
dest=$1 stage=$2 mode=$3
mkdir -p -- "$stage"
tmp=$(mktemp "$stage/.kvmshare.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
chmod -- "$mode" "$tmp"
sync -- "$tmp" 2>/dev/null || sync
mv -f -- "$tmp" "$dest"
trap - EXIT
`;

async function writeExportFile(host: Host, spec: NfsExportSpec, content: string, mode: string): Promise<void> {
  if (spec.backend === "ganesha") {
    await host.run(["sh", "-c", STAGED_WRITE, "sh", spec.file, `${spec.exportsDir.replace(/\/+$/, "")}.kvmshare-staging`, mode], { stdin: content });
  } else {
    await host.writeFileAtomic(spec.file, content, { mode });
  }
}

/** Files of a directory matching a suffix (none when it does not exist). */
async function listFiles(host: Host, dir: string, suffix: string): Promise<string[]> {
  const r = await host.run(["sh", "-c", 'if [ -d "$1" ]; then for f in "$1"/*; do [ -f "$f" ] && printf "%s\\n" "$f"; done; fi; :', "sh", dir], { check: false });
  return r.stdout.split("\n").filter((f) => f && f.endsWith(suffix));
}

/** Conflicts between this export and the other export files on the host. */
async function hostConflicts(host: Host, s: NfsExportSpec): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (s.backend === "kernel") {
    const others = (await listFiles(host, s.exportsDir, ".exports")).filter((f) => f !== s.file);
    if (s.mainExportsFile) others.push(s.mainExportsFile);
    for (const f of others) {
      const text = await host.readFile(f);
      if (!text) continue;
      for (const e of parseKernelExports(text)) {
        if (e.path !== s.path) continue;
        const mine = s.clients.find((c) => c.host === e.host);
        if (!mine) continue;
        const differs = mine.access !== e.access || mine.squash !== e.squash || mine.sync !== e.sync || mine.sec.join(":") !== e.sec.join(":");
        if (differs) {
          problems.push({
            field: "clients",
            value: e.host,
            message: `${s.path} is already exported to ${e.host} by ${f} with other options (${e.access}, ${e.squash}, ${e.sync ? "sync" : "async"}); remove that entry or make the options equal`,
          });
        }
      }
    }
  } else {
    const others = (await listFiles(host, s.exportsDir, "")).filter((f) => f !== s.file);
    for (const f of others) {
      for (const e of parseGaneshaExports((await host.readFile(f)) ?? "")) {
        if (e.exportId === s.exportId) problems.push({ field: "ganesha.exportId", value: s.exportId, message: `is already used by ${f}; choose another id` });
        if (e.pseudo === s.pseudo) problems.push({ field: "ganesha.pseudo", value: s.pseudo, message: `is already the pseudo path of ${f}; choose another` });
      }
    }
  }
  return problems;
}

/** The kernel backend reads its export table (unless etabPath is ""). */
function tracksTable(spec: NfsExportSpec): boolean {
  return spec.backend === "kernel" && !!spec.etabPath;
}

export const kind: HostKind<NfsExportSpec, NfsExportState> = {
  name: "NfsExport",
  version: 2,
  validate: (spec) => validateNfsExport(spec),

  async preflight(host, s) {
    const [cmd, install] = s.backend === "ganesha" ? ["ganesha.nfsd", "nfs-ganesha nfs-ganesha-vfs"] : ["exportfs", "nfs-kernel-server"];
    const problems = await exportProblems(host, s.path, s.check ? { cmd, install, field: "backend", value: s.backend } : undefined);
    if (s.backend === "ganesha" && s.ganeshaConfigPath) {
      const main = await host.readFile(s.ganeshaConfigPath);
      const includes = main !== undefined && main.split("\n").some((l) => {
        const m = /^\s*%(dir|include)\s+"?([^"\s]+)"?/.exec(l);
        return !!m && (m[2].replace(/\/+$/, "") === s.exportsDir.replace(/\/+$/, "") || m[2] === s.file);
      });
      if (!includes) {
        problems.push({
          field: "ganesha.configPath",
          value: s.ganeshaConfigPath,
          message: `${main === undefined ? "does not exist" : "does not include the exports directory"}; add the line: %dir "${s.exportsDir}"`,
        });
      }
    }
    problems.push(...(await hostConflicts(host, s)));
    const xprtsec = s.clients.find((cl) => cl.xprtsec !== undefined)?.xprtsec;
    if (s.backend === "kernel" && xprtsec) problems.push(...(await rpcTlsProblems(host, { field: "xprtsec", value: xprtsec, nfsUtils: true, kernel: usesTls(s) })));
    return problems;
  },

  render: (spec) => ({ content: renderNfsExport(spec), mode: MODE, ...(tracksTable(spec) ? { inactiveClients: [] } : {}) }),

  async probe(host, spec) {
    const f = await probeFile(host, spec.file);
    if (!f) return undefined;
    const state: NfsExportState = { content: f.content, mode: f.mode };
    if (tracksTable(spec)) {
      const etab = (await host.readFile(spec.etabPath as string)) ?? "";
      state.inactiveClients = inactiveClients(etab, spec.path, spec.clients.map((c) => c.host));
    }
    return state;
  },

  compare(desired, observed) {
    const out: string[] = (["content", "mode"] as const).filter((k) => desired[k] !== observed[k]);
    if (desired.inactiveClients && JSON.stringify(observed.inactiveClients ?? []) !== "[]") out.push("inactiveClients");
    return out;
  },

  async apply(host, { spec, desired, live, previous, log }) {
    let changed = false;
    const rewrite = !live || live.content !== desired.content;
    if (rewrite && spec.check) await checkExport(host, spec, desired.content);
    if (previous && previous.spec.file !== spec.file && (await host.removeFile(previous.spec.file))) {
      log(`removed ${previous.spec.file} on ${host.label}`);
      changed = true;
    }
    if (rewrite || live.mode !== desired.mode) {
      await host.run(["mkdir", "-p", "--", spec.exportsDir]);
      await writeExportFile(host, spec, desired.content, desired.mode);
      log(`wrote ${spec.file} on ${host.label}`);
      changed = changed || rewrite;
    }
    // Reload on change, or when the server's table lacks some of the declared clients.
    const stale = !!live?.inactiveClients?.length;
    if (changed || stale) {
      await host.run(spec.reloadCommand);
      log(`reloaded the ${spec.backend} NFS server (${spec.reloadCommand.join(" ")})`);
    }
  },

  async remove(host, spec, _observed, log) {
    if (await host.removeFile(spec.file)) {
      log(`removed ${spec.file} on ${host.label}`);
      await host.run(spec.reloadCommand);
    }
  },

  outputs: (spec) => ({ file: spec.file }),
  id: (spec) => `NfsExport:${spec.file}`,
};
