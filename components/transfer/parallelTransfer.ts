import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { fingerprintOf, listLocal } from "./fingerprint";
import { ParallelTransferArgs, ParallelTransferSpec, resolveParallelTransfer, validateParallelTransfer } from "./parallelTransferArgs";
import { ParallelTransferState, TRANSFER_OUTPUTS } from "./parallelTransferKind";

/**
 * Copies a local file or directory to a host (a local or mounted path, or over SSH) with the
 * kvmshare transfer engine: parallel chunked streams, verified, resumable. Runs during
 * `pulumi up` when the source's content changed (size + mtime, or SHA-256) or the copy on the
 * host no longer matches it; does nothing otherwise. Outputs the last copy's figures.
 */
export class ParallelTransfer extends pulumi.ComponentResource {
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
  declare public readonly copy: HostResource<ParallelTransferSpec, ParallelTransferState>;

  constructor(name: string, args: ParallelTransferArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:transfer:ParallelTransfer", name, {}, opts);
    const problems = validateParallelTransfer(args);
    if (problems.length) throw new ValidationError(`ParallelTransfer '${name}'`, problems);
    const d = resolveParallelTransfer(args);
    // Taken at program time, so preview already knows whether the source changed.
    const sourceFingerprint = fingerprintOf(listLocal(args.source, d.changeDetection));

    const spec = pulumi.output(args.destination).apply((destination) => {
      const s: ParallelTransferSpec = {
        source: args.source,
        destination,
        sourceFingerprint,
        changeDetection: d.changeDetection,
        verify: d.verify,
        allowDestroy: d.allowDestroy,
      };
      if (args.streams !== undefined) s.streams = args.streams;
      if (d.chunkSizeBytes !== undefined) s.chunkSizeBytes = d.chunkSizeBytes;
      return s;
    });
    const copy = new HostResource<ParallelTransferSpec, ParallelTransferState>(
      "ParallelTransfer",
      `${name}-copy`,
      { connection: args.connection, spec },
      { parent: this },
      [...TRANSFER_OUTPUTS],
    );
    const out = copy as unknown as Record<string, pulumi.Output<unknown>>;
    this.copy = copy;
    this.bytes = out.bytes as pulumi.Output<number>;
    this.files = out.files as pulumi.Output<number>;
    this.seconds = out.seconds as pulumi.Output<number>;
    this.mibps = out.mibps as pulumi.Output<number>;
    this.streams = out.streams as pulumi.Output<number>;
    this.copiedAt = out.copiedAt as pulumi.Output<string>;
    this.fingerprint = copy.observed.apply((o) => o?.fingerprint ?? "");
    this.registerOutputs({
      bytes: this.bytes,
      files: this.files,
      seconds: this.seconds,
      mibps: this.mibps,
      streams: this.streams,
      copiedAt: this.copiedAt,
      fingerprint: this.fingerprint,
    });
  }
}
