/**
 * Kind: one Samba share, as `<sharesDir>/<name>.conf`, included from the shares index. Checked
 * by `testparm -s` before it goes live; smbd reloaded only when the share file or the index
 * changed. Drift: a hand edit of the share file, or its include dropped from the index.
 */
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { probeFile } from "../../core/configFile";
import { exportProblems } from "../../core/hostChecks";
import { syncShareIndex, testparm } from "./smbChecks";
import { renderSmbShare } from "./smbRender";
import { SmbShareSpec, validateSmbShare } from "./smbShareArgs";

export type SmbShareState = { content: string; mode: string; indexed: boolean };

export const kind: HostKind<SmbShareSpec, SmbShareState> = {
  name: "SmbShare",
  version: 1,
  validate: (spec) => validateSmbShare(spec),
  preflight: (host, s) => exportProblems(host, s.path, s.check ? { cmd: "testparm", install: "samba" } : undefined),
  render: (s) => ({ content: renderSmbShare(s), mode: "0644", indexed: true }),
  async probe(host, s) {
    const f = await probeFile(host, s.file);
    if (!f) return undefined;
    const index = (await host.readFile(s.sharesIndexPath)) ?? "";
    const indexed = index.split("\n").some((l) => l.trim() === `include = ${s.file}`);
    return { content: f.content, mode: f.mode, indexed };
  },
  compare(desired, observed) {
    return (["content", "mode", "indexed"] as const).filter((k) => desired[k] !== observed[k]);
  },
  async apply(host, { spec, desired, live, previous, log }) {
    const rewrite = !live || live.content !== desired.content;
    if (rewrite && spec.check) await testparm(host, spec.file, desired.content);
    let changed = false;
    if (previous && previous.spec.file !== spec.file && (await host.removeFile(previous.spec.file))) changed = true;
    if (rewrite || live.mode !== desired.mode) {
      await host.run(["mkdir", "-p", "--", spec.sharesDir]);
      await host.writeFileAtomic(spec.file, desired.content, { mode: desired.mode });
      log(`wrote ${spec.file} on ${host.label}`);
      changed = changed || rewrite;
    }
    if (await syncShareIndex(host, spec.sharesDir, spec.sharesIndexPath)) changed = true;
    if (changed) {
      await host.run(spec.reloadCommand);
      log(`reloaded smbd (${spec.reloadCommand.join(" ")})`);
    }
  },
  async remove(host, spec, _observed, log) {
    const removed = await host.removeFile(spec.file);
    const reindexed = await syncShareIndex(host, spec.sharesDir, spec.sharesIndexPath);
    if (removed || reindexed) {
      log(`removed share ${spec.name} (${spec.file}) on ${host.label}`);
      await host.run(spec.reloadCommand);
    }
  },
  outputs: (s) => ({ file: s.file }),
  id: (s) => `SmbShare:${s.file}`,
};
