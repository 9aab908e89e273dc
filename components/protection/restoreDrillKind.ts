/**
 * Kind: a restore drill (`ZfsRestoreDrill`). Apply runs the drill (restoreDrillEngine.ts): clones
 * the newest snapshot source and target share, compares sha256 manifests of every file, destroys
 * the clones; the result is kept on the source host (`<stateDir>/<name>.json`) and reported as the
 * observed state. A changed `trigger` runs it again; a last result that did not match is drift
 * (`lastMatch`), so `preview --refresh` shows a failed drill until one passes.
 */
import * as path from "path";
import { connect, Host } from "../../core/connection";
import { HostKind, Json } from "../../core/hostKind";
import { DrillResult, runRestoreDrill } from "./restoreDrillEngine";
import { validateRestoreDrillSpec, ZFS_RESTORE_DRILL_DEFAULTS, ZfsRestoreDrillSpec } from "./restoreDrillArgs";
import { targetConnectionOf } from "./zfsReplicationKind";

export type ZfsRestoreDrillState = {
  /** The trigger the last drill ran for (null: none given). */
  trigger: string | null;
  /** Whether the last drill matched. */
  lastMatch: boolean;
  /** The last drill's result. */
  lastResult?: DrillResult;
};

const resultPath = (spec: ZfsRestoreDrillSpec) => path.posix.join(spec.stateDir ?? ZFS_RESTORE_DRILL_DEFAULTS.stateDir, `${spec.name}.json`);

async function probe(host: Host, spec: ZfsRestoreDrillSpec): Promise<ZfsRestoreDrillState | undefined> {
  const text = await host.readFile(resultPath(spec));
  if (text === undefined) return undefined;
  try {
    const saved = JSON.parse(text) as { trigger: string | null; result: DrillResult };
    return { trigger: saved.trigger, lastMatch: saved.result.match, lastResult: saved.result };
  } catch {
    return { trigger: null, lastMatch: false };
  }
}

export const kind: HostKind<ZfsRestoreDrillSpec, ZfsRestoreDrillState> = {
  name: "ZfsRestoreDrill",
  version: 1,
  validate: (spec) => validateRestoreDrillSpec(spec),
  render: (spec) => ({ trigger: spec.trigger ?? null, lastMatch: true }),
  probe,
  compare: (desired, observed) => [
    ...(desired.trigger !== observed.trigger ? ["trigger"] : []),
    ...(observed.lastMatch ? [] : ["lastMatch"]),
  ],
  absentAs: "(the drill has not run)",
  project: (spec, observed) => ({ ...spec, ...(observed.trigger !== null ? { trigger: observed.trigger } : {}) }),
  outputs: (_spec, observed) => ({ lastMatch: observed?.lastMatch ?? null, lastResult: (observed?.lastResult ?? null) as unknown as Json }),
  id: (spec) => `ZfsRestoreDrill:${spec.source}:${spec.name}`,
  async apply(host, { spec, secrets, log }) {
    // No targetConnection: the target is on the source's host (as for ZfsReplication), not on the Pulumi machine.
    const tspec = targetConnectionOf(secrets);
    const dst = tspec ? await connect(tspec) : host;
    let result: DrillResult;
    try {
      result = await runRestoreDrill(host, dst, { source: spec.source, target: spec.target, snapshot: spec.snapshot, log });
    } finally {
      if (dst !== host) await dst.close();
    }
    const file = resultPath(spec);
    await host.run(["mkdir", "-p", "--", path.posix.dirname(file)]);
    await host.writeFileAtomic(file, JSON.stringify({ trigger: spec.trigger ?? null, result }, null, 2) + "\n", { mode: "0644" });
    if (!result.match && (spec.failOnMismatch ?? ZFS_RESTORE_DRILL_DEFAULTS.failOnMismatch)) {
      throw new Error(
        `restore drill ${spec.name}: ${spec.target}@${result.snapshot} does NOT match ${spec.source}@${result.snapshot}: ` +
          `${result.mismatched.length} differ, ${result.missing.length} missing, ${result.extra.length} extra, ${result.unreadable.length} unreadable ` +
          `(first: ${[...result.mismatched, ...result.missing, ...result.extra, ...result.unreadable].slice(0, 5).join(", ")}). Result kept in ${file}`,
      );
    }
  },
  async remove(host, spec, _observed, log) {
    if (await host.removeFile(resultPath(spec))) log(`removed ${resultPath(spec)} (the datasets are untouched)`);
  },
};
