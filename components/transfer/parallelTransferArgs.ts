/**
 * `ParallelTransferArgs`: the one declaration of the component's fields, its defaults table,
 * `resolveParallelTransfer()` and the pure validation. The spec the kind receives is derived
 * from the Args here, never re-declared.
 */
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import type { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, parseSize } from "../../core/validate";
import { pathOverlap } from "../../core/writePaths";
import { CHUNK_RANGE, MAX_CHUNK, MAX_STREAMS, MIN_CHUNK, MIN_STREAMS } from "../../transfer/plan";
import type { ChangeDetection } from "./fingerprint";

export interface ParallelTransferArgs {
  /** Local file or directory to copy (on the machine running Pulumi). Must exist at preview time. @fieldKind path read */
  source: string;
  /** Absolute path of the copy on the host: the file (or directory) itself, not its parent (no trailing `/`). @fieldKind path file */
  destination: pulumi.Input<string>;
  /** The host that receives the copy. @default unset: this machine (a local or mounted path) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Parallel streams (over SSH: one OpenSSH process each, as `kvmshare copy`), 1 to 64. @default unset: chosen from the cores and the destination type */
  streams?: number;
  /** Chunk size, e.g. "64M" (4K to 4G). @default unset: chosen from the file size (8M-256M) @fieldKind free */
  chunkSize?: string | number;
  /** Read every chunk back and compare hashes. @default true: every copy is verified */
  verify?: boolean;
  /**
   * What counts as a changed source: "mtime" (size + modification time of every file; cheap)
   * or "sha256" (content hashes; reads the whole source on every preview and the whole
   * destination on every refresh). @default "mtime"
   */
  changeDetection?: ChangeDetection;
  /** Delete the copy on the host when this resource is destroyed. @default false: the copy stays on the host */
  allowDestroy?: boolean;
}

/** Optional fields without a default value: unset means "the engine chooses" or "this machine". */
type Unset = "connection" | "streams" | "chunkSize";

export const PARALLEL_TRANSFER_DEFAULTS: Defaults<ParallelTransferArgs, Unset> = {
  verify: true,
  changeDetection: "mtime",
  allowDestroy: false,
};

export const CHANGE_DETECTION: readonly ChangeDetection[] = ["mtime", "sha256"];

/** The args with their defaults filled in, and the chunk size in bytes. */
export type ResolvedParallelTransfer = Resolved<ParallelTransferArgs, Unset> & {
  /** `chunkSize` in bytes (NaN when malformed; validation reports it). */
  chunkSizeBytes?: number;
};

/** Args fields the kind does not receive as they are: the host, and the chunk size (as `chunkSizeBytes`). */
type NotInSpec = "connection" | "chunkSize";

/** The resolved inputs of one copy, as the kind receives them (plain JSON): `ResolvedParallelTransfer`, known. */
export type ParallelTransferSpec = Plain<Omit<ResolvedParallelTransfer, NotInSpec>> & {
  /** `fingerprintOf(listLocal(source))`, taken by the component. */
  sourceFingerprint: string;
};

export function resolveParallelTransfer(args: ParallelTransferArgs): ResolvedParallelTransfer {
  const r: ResolvedParallelTransfer = resolveDefaults<ParallelTransferArgs, Unset>(args, PARALLEL_TRANSFER_DEFAULTS);
  if (args.chunkSize !== undefined) r.chunkSizeBytes = parseSize(args.chunkSize) ?? NaN;
  return r;
}

/**
 * The kind's spec from the resolved args, once the destination is known: every field of the
 * Args flows through (a new field needs no edit here or in the component), minus `NotInSpec`.
 */
export function parallelTransferSpec(resolved: ResolvedParallelTransfer, destination: string, sourceFingerprint: string): ParallelTransferSpec {
  const { connection, chunkSize, ...fields } = resolved;
  return { ...fields, destination, sourceFingerprint } satisfies ParallelTransferSpec;
}

/** Directories of the system a copy never replaces, and whose direct entries a destroy never deletes. */
export const SYSTEM_DIRS = ["/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"];

function isSystemDir(p: string): boolean {
  return SYSTEM_DIRS.includes(p) || /^\/lib[A-Za-z0-9_]*$/.test(p);
}

/**
 * Why `p` is a path kvmshare must never delete, or undefined: `/`, a system directory
 * (`SYSTEM_DIRS`, every `/lib*`) or an entry directly inside one (`/etc/ssh`, `/home/alice`).
 */
export function protectedPathReason(p: unknown): string | undefined {
  if (typeof p !== "string") return undefined;
  const n = p.replace(/\/+$/, "").replace(/\/{2,}/g, "/") || "/";
  if (n === "/") return "is the root directory";
  if (isSystemDir(n)) return `is the system directory ${n}`;
  const parent = n.slice(0, n.lastIndexOf("/")) || "/";
  if (isSystemDir(parent)) return `is directly inside the system directory ${parent}`;
  return undefined;
}

/** Every problem with a (possibly partial) spec: field, value, fix. */
export function validateTransferSpec(spec: Partial<ParallelTransferSpec>, chunkSizeGiven?: unknown): Problem[] {
  const c = new Checker("ParallelTransfer");
  c.required("source", spec.source).absPath("source", spec.source, "read");
  c.required("destination", spec.destination).absPath("destination", spec.destination);
  if (typeof spec.destination === "string" && /\/$/.test(spec.destination) && spec.destination !== "/") {
    c.add("destination", spec.destination, "must name the copy itself (no trailing '/'), e.g. /srv/images/disk.qcow2");
  }
  // One message per destination: the write-path policy's (absPath) or the system-directory guard's.
  const guarded = c.problems.some((p) => p.field === "destination") ? undefined : protectedPathReason(spec.destination);
  if (guarded && (spec.destination === "/" || !guarded.startsWith("is directly inside"))) {
    c.add("destination", spec.destination, `${guarded}: a copy must not replace it; name a path of its own, e.g. /srv/images/disk.qcow2`);
  } else if (guarded && spec.allowDestroy === true) {
    c.add("destination", spec.destination, `${guarded}, and allowDestroy would delete it on destroy; copy to a deeper path (e.g. /srv/images/disk.qcow2) or drop allowDestroy`);
  }
  if (spec.changeDetection !== undefined && !CHANGE_DETECTION.includes(spec.changeDetection)) {
    c.add("changeDetection", spec.changeDetection, `must be one of ${CHANGE_DETECTION.join(", ")}`);
  }
  if (spec.streams !== undefined && (!Number.isInteger(spec.streams) || spec.streams < MIN_STREAMS || spec.streams > MAX_STREAMS)) {
    c.add("streams", spec.streams, `must be an integer from ${MIN_STREAMS} to ${MAX_STREAMS} (leave unset for the default from cores and destination)`);
  }
  if (spec.chunkSizeBytes !== undefined && (!Number.isInteger(spec.chunkSizeBytes) || spec.chunkSizeBytes < MIN_CHUNK || spec.chunkSizeBytes > MAX_CHUNK)) {
    // Report what the user wrote ('64Q'), not the NaN it parsed to.
    const given = chunkSizeGiven !== undefined ? chunkSizeGiven : Number.isNaN(spec.chunkSizeBytes) ? undefined : spec.chunkSizeBytes;
    const parsed = Number.isFinite(spec.chunkSizeBytes);
    c.add("chunkSize", given, parsed ? `must be from ${CHUNK_RANGE}, e.g. '64M'` : `must be a size from ${CHUNK_RANGE} such as '64M', '1G' or a number of bytes`);
  }
  return c.problems;
}

/** Every problem with the args (the destination is checked later when it is an output). */
export function validateParallelTransfer(args: ParallelTransferArgs): Problem[] {
  const d = resolveParallelTransfer(args);
  const destination = typeof args.destination === "string" ? args.destination : "/unknown";
  const problems = validateTransferSpec({
    source: args.source,
    destination,
    changeDetection: d.changeDetection,
    streams: args.streams,
    chunkSizeBytes: d.chunkSizeBytes,
    allowDestroy: d.allowDestroy,
  }, args.chunkSize);
  const conn = args.connection as { kind?: unknown } | undefined;
  const overlap = conn === undefined || conn?.kind === "local" ? pathOverlap(args.source, args.destination) : undefined;
  if (overlap) problems.push({ field: "destination", value: args.destination, message: `${overlap}; copy to a path outside the source, e.g. /srv/images/disk.qcow2` });
  if (typeof args.source === "string" && args.source.startsWith("/") && !fs.existsSync(args.source)) {
    problems.push({ field: "source", value: args.source, message: "does not exist on the machine running Pulumi" });
  }
  return problems;
}
