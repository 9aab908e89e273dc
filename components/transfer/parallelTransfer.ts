import * as pulumi from "@pulumi/pulumi";
import { Component, hostResourceClass, out, Outputs } from "../../core/component";
import { ValidationError } from "../../core/errors";
import { fingerprintOf, listLocal } from "./fingerprint";
import { ParallelTransferArgs, ParallelTransferSpec, parallelTransferSpec, resolveParallelTransfer, validateParallelTransfer } from "./parallelTransferArgs";
import { ParallelTransferState, TRANSFER_OUTPUTS } from "./parallelTransferKind";

/** The last copy's figures: the kind's outputs (`TRANSFER_OUTPUTS`, which this must name exactly), and the component's. */
const FIGURES = {
  /** Bytes in the source at the last copy. */
  bytes: out<number>(),
  files: out<number>(),
  /** Wall time of the last copy, fsync included. */
  seconds: out<number>(),
  /** `bytes / seconds` in MiB/s. */
  mibps: out<number>(),
  streams: out<number>(),
  /** When the last copy finished (ISO 8601). */
  copiedAt: out<string>(),
} satisfies Record<(typeof TRANSFER_OUTPUTS)[number], pulumi.Output<unknown>>;

/** The copy as a host-side resource (the component's child), with the figures as typed outputs. */
export const ParallelTransferResource = hostResourceClass<ParallelTransferSpec, ParallelTransferState>()("ParallelTransfer", FIGURES);
export type ParallelTransferResource = InstanceType<typeof ParallelTransferResource>;

/** The last copy's figures (`FIGURES`); `fingerprint` is the component's own. */
export interface ParallelTransfer extends Outputs<typeof FIGURES> {}

/**
 * Copies a local file or directory to a host (a local or mounted path, or over SSH) with the
 * kvmshare transfer engine: parallel chunked streams, verified, resumable. Runs during
 * `pulumi up` when the source's content changed (size + mtime, or SHA-256) or the copy on the
 * host no longer matches it; does nothing otherwise. Outputs the last copy's figures.
 */
export class ParallelTransfer extends Component<ParallelTransfer> {
  /** The source fingerprint the copy on the host matches. */
  declare public readonly fingerprint: pulumi.Output<string>;
  /** The host resource that runs the copy. */
  public readonly copy: ParallelTransferResource;

  constructor(name: string, args: ParallelTransferArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:transfer:ParallelTransfer", name, opts);
    const problems = validateParallelTransfer(args);
    if (problems.length) throw new ValidationError(`ParallelTransfer '${name}'`, problems);
    const d = resolveParallelTransfer(args);
    // Taken at program time, so preview already knows whether the source changed.
    const sourceFingerprint = fingerprintOf(listLocal(args.source, d.changeDetection));

    const spec = pulumi.output(args.destination).apply((destination) => parallelTransferSpec(d, destination, sourceFingerprint));
    const copy = new ParallelTransferResource(`${name}-copy`, { connection: args.connection, spec }, { parent: this });
    this.copy = copy;
    const { bytes, files, seconds, mibps, streams, copiedAt } = copy;
    this.publish({ bytes, files, seconds, mibps, streams, copiedAt, fingerprint: copy.observed.apply((o) => o?.fingerprint ?? "") });
  }
}
