import * as pulumi from "@pulumi/pulumi";
import { hostResourceClass, out, Outputs } from "../../core/component";
import { HostComponent } from "../host";
import type { DrillResult } from "./restoreDrillEngine";
import { resolveZfsRestoreDrill, validateZfsRestoreDrill, ZfsRestoreDrillArgs, ZfsRestoreDrillSpec } from "./restoreDrillArgs";
import type { ZfsRestoreDrillState } from "./restoreDrillKind";
import { onDataset, targetSecrets } from "./onDataset";

/** What the drill's resource outputs, and the component with it. */
const DRILL_OUTPUTS = {
  /** Whether the last drill matched. */
  lastMatch: out<boolean | null>(),
  /** The last drill's result (snapshot, counts, differing files, time). */
  lastResult: out<DrillResult | null>(),
};

export const ZfsRestoreDrillResource = hostResourceClass<ZfsRestoreDrillSpec, ZfsRestoreDrillState>()("ZfsRestoreDrill", DRILL_OUTPUTS);
export type ZfsRestoreDrillResource = InstanceType<typeof ZfsRestoreDrillResource>;

/** The drill's outputs (`DRILL_OUTPUTS`). */
export interface ZfsRestoreDrill extends Outputs<typeof DRILL_OUTPUTS> {}

/**
 * A restore drill that proves a backup: clones the newest snapshot the source and the backup share,
 * compares sha256 manifests of every file, destroys the clones. Runs on create and whenever
 * `trigger` changes; the last result is the observed state (a failed drill is drift).
 */
export class ZfsRestoreDrill extends HostComponent<ZfsRestoreDrill> {
  public readonly resource: ZfsRestoreDrillResource;

  constructor(name: string, args: ZfsRestoreDrillArgs, opts: pulumi.ComponentResourceOptions = {}) {
    validateZfsRestoreDrill(name, args);
    super("kvmshare:storage:ZfsRestoreDrill", name, opts);
    const spec = resolveZfsRestoreDrill(name, args);
    const { connection, childOpts } = onDataset(args.source, args.connection);
    this.resource = this.hostResource(ZfsRestoreDrillResource, "drill", { connection, spec, secrets: targetSecrets(args.targetConnection) }, childOpts).resource;
    this.publish({ lastMatch: this.resource.lastMatch, lastResult: this.resource.lastResult });
  }
}
