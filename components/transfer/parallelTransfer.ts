import * as pulumi from "@pulumi/pulumi";
import { Component, OutputsOf } from "../../core/component";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { fingerprintOf, listLocal } from "./fingerprint";
import { ParallelTransferArgs, ParallelTransferSpec, parallelTransferSpec, resolveParallelTransfer, validateParallelTransfer } from "./parallelTransferArgs";
import { ParallelTransferState, TRANSFER_OUTPUTS } from "./parallelTransferKind";

/**
 * Copies a local file or directory to a host (a local or mounted path, or over SSH) with the
 * kvmshare transfer engine: parallel chunked streams, verified, resumable. Runs during
 * `pulumi up` when the source's content changed (size + mtime, or SHA-256) or the copy on the
 * host no longer matches it; does nothing otherwise. Outputs the last copy's figures.
 */
export class ParallelTransfer extends Component<ParallelTransfer> {
  /** Bytes in the source at the last copy. */
  declare public readonly bytes: pulumi.Output<number>;
  declare public readonly files: pulumi.Output<number>;
  /** Wall time of the last copy, fsync included. */
  declare public readonly seconds: pulumi.Output<number>;
  /** `bytes / seconds` in MiB/s. */
  declare public readonly mibps: pulumi.Output<number>;
  declare public readonly streams: pulumi.Output<number>;
  /** When the last copy finished (ISO 8601). */
  declare public readonly copiedAt: pulumi.Output<string>;
  /** The source fingerprint the copy on the host matches. */
  declare public readonly fingerprint: pulumi.Output<string>;
  /** The host resource that runs the copy. */
  public readonly copy: HostResource<ParallelTransferSpec, ParallelTransferState>;

  constructor(name: string, args: ParallelTransferArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:transfer:ParallelTransfer", name, opts);
    const problems = validateParallelTransfer(args);
    if (problems.length) throw new ValidationError(`ParallelTransfer '${name}'`, problems);
    const d = resolveParallelTransfer(args);
    // Taken at program time, so preview already knows whether the source changed.
    const sourceFingerprint = fingerprintOf(listLocal(args.source, d.changeDetection));

    const spec = pulumi.output(args.destination).apply((destination) => parallelTransferSpec(d, destination, sourceFingerprint));
    const copy = new HostResource<ParallelTransferSpec, ParallelTransferState>("ParallelTransfer", `${name}-copy`, { connection: args.connection, spec }, { parent: this }, [...TRANSFER_OUTPUTS]);
    this.copy = copy;
    // The last copy's figures are the kind's outputs (TRANSFER_OUTPUTS), under the same names.
    const figures = Object.fromEntries(TRANSFER_OUTPUTS.map((k) => [k, (copy as unknown as Record<string, pulumi.Output<unknown>>)[k]]));
    this.publish({ ...(figures as Omit<OutputsOf<ParallelTransfer>, "fingerprint">), fingerprint: copy.observed.apply((o) => o?.fingerprint ?? "") });
  }
}
