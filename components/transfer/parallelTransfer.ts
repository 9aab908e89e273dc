import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { parseSize } from "../../core/validate";
import { ChangeDetection, fingerprintOf, listLocal } from "./fingerprint";
import { ParallelTransferSpec, ParallelTransferState, TRANSFER_OUTPUTS, validateTransferSpec } from "./parallelTransferKind";

export interface ParallelTransferArgs {
  /** Local file or directory to copy (on the machine running Pulumi). Must exist at preview time. */
  source: string;
  /** Absolute path of the copy on the host: the file (or directory) itself, not its parent. */
  destination: pulumi.Input<string>;
  /** The host that receives the copy. @default this machine (a local or mounted path) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Parallel streams (SFTP sessions over SSH). @default from cores and destination type */
  streams?: number;
  /** Chunk size, e.g. "64M". @default from file size (8M-256M) */
  chunkSize?: string | number;
  /** Read every chunk back and compare hashes. @default true */
  verify?: boolean;
  /**
   * What counts as a changed source: "mtime" (size + modification time of every file; cheap)
   * or "sha256" (content hashes; reads the whole source on every preview and the whole
   * destination on every refresh). @default "mtime"
   */
  changeDetection?: ChangeDetection;
  /** Delete the copy on the host when this resource is destroyed. @default false (it stays) */
  allowDestroy?: boolean;
}

/** Defaults resolved once. */
export interface ResolvedParallelTransferArgs {
  changeDetection: ChangeDetection;
  verify: boolean;
  allowDestroy: boolean;
  chunkSizeBytes?: number;
}

export function resolveParallelTransferArgs(args: ParallelTransferArgs): ResolvedParallelTransferArgs {
  const r: ResolvedParallelTransferArgs = {
    changeDetection: args.changeDetection ?? "mtime",
    verify: args.verify ?? true,
    allowDestroy: args.allowDestroy ?? false,
  };
  if (args.chunkSize !== undefined) r.chunkSizeBytes = parseSize(args.chunkSize) ?? NaN;
  return r;
}

/** Every problem with the args (the destination is checked later when it is an output). */
export function validateParallelTransfer(args: ParallelTransferArgs): Problem[] {
  const d = resolveParallelTransferArgs(args);
  const destination = typeof args.destination === "string" ? args.destination : "/unknown";
  const problems = validateTransferSpec({
    source: args.source,
    destination,
    changeDetection: d.changeDetection,
    streams: args.streams,
    chunkSizeBytes: d.chunkSizeBytes,
  });
  if (typeof args.source === "string" && args.source.startsWith("/") && !fs.existsSync(args.source)) {
    problems.push({ field: "source", value: args.source, message: "does not exist on the machine running Pulumi" });
  }
  return problems;
}

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
    const d = resolveParallelTransferArgs(args);
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
      require.resolve("./parallelTransferKind"),
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
