import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import type { DrillResult } from "./restoreDrillEngine";
import { resolveZfsRestoreDrill, validateZfsRestoreDrill, ZfsRestoreDrillArgs, ZfsRestoreDrillSpec } from "./restoreDrillArgs";
import type { ZfsRestoreDrillState } from "./restoreDrillKind";

export class ZfsRestoreDrillResource extends HostResource<ZfsRestoreDrillSpec, ZfsRestoreDrillState> {
  declare public readonly lastMatch: pulumi.Output<boolean | null>;
  declare public readonly lastResult: pulumi.Output<DrillResult | null>;
  constructor(
    name: string,
    args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsRestoreDrillSpec; secrets?: pulumi.Input<Record<string, pulumi.Input<string>>> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super("ZfsRestoreDrill", name, args, opts, ["lastMatch", "lastResult"]);
  }
}

/**
 * A restore drill that proves a backup: clones the newest snapshot the source and the backup share,
 * compares sha256 manifests of every file, destroys the clones. Runs on create and whenever
 * `trigger` changes; the last result is the observed state (a failed drill is drift).
 */
export class ZfsRestoreDrill extends pulumi.ComponentResource {
  /** Whether the last drill matched. */
  public readonly lastMatch: pulumi.Output<boolean | null>;
  /** The last drill's result (snapshot, counts, differing files, time). */
  public readonly lastResult: pulumi.Output<DrillResult | null>;
  public readonly resource: ZfsRestoreDrillResource;

  constructor(name: string, args: ZfsRestoreDrillArgs, opts: pulumi.ComponentResourceOptions = {}) {
    validateZfsRestoreDrill(name, args);
    super("kvmshare:storage:ZfsRestoreDrill", name, {}, opts);
    const spec = resolveZfsRestoreDrill(name, args);
    const src = typeof args.source === "string" ? undefined : args.source;
    const secrets = args.targetConnection !== undefined ? { targetConnection: pulumi.output(args.targetConnection).apply((c) => JSON.stringify(c)) } : undefined;
    this.resource = new ZfsRestoreDrillResource(`${name}-drill`, { connection: args.connection ?? src?.connection, spec, secrets }, { parent: this, dependsOn: src ? [src.dataset] : [] });
    this.lastMatch = this.resource.lastMatch;
    this.lastResult = this.resource.lastResult;
    this.registerOutputs({ lastMatch: this.lastMatch, lastResult: this.lastResult });
  }
}
