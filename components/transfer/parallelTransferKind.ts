/**
 * Kind: a copy of a local file or directory to a path on a host, made by the transfer engine.
 * Desired state = the source's fingerprint (computed by the component at program time);
 * observed state = the destination's fingerprint on the host. So the copy runs when the source
 * changed or the destination drifted, and nothing happens otherwise.
 */
import { Host, SshHost } from "../../core/connection";
import { HostKind, Json } from "../../core/hostKind";
import { copy, Target } from "../../transfer/engine";
import { LocalDestination } from "../../transfer/local";
import * as fs from "fs";
import * as path from "path";
import { fingerprintOf, listLocal, listRemote } from "./fingerprint";
import { ParallelTransferSpec, protectedPathReason, validateTransferSpec } from "./parallelTransferArgs";

export type { ParallelTransferSpec } from "./parallelTransferArgs";
export { validateTransferSpec, CHANGE_DETECTION } from "./parallelTransferArgs";

export type ParallelTransferState = { fingerprint: string };

/** The figures of the last copy, as outputs. */
export interface TransferRun {
  bytes: number;
  files: number;
  seconds: number;
  mibps: number;
  streams: number;
  copiedAt: string;
}

export const TRANSFER_OUTPUTS = ["bytes", "files", "seconds", "mibps", "streams", "copiedAt"] as const;

/**
 * Figures of copies made in this process, by destination: `apply` records them and `outputs`
 * (called right after, in the same provider call) publishes them. A refresh publishes
 * nothing here, so the stored figures of the last copy stay.
 */
const lastRuns = new Map<string, TransferRun>();

/**
 * The engine's destination on the host the provider connected to: over SSH the same transport
 * as `kvmshare copy` (OpenSSH processes, falling back to SFTP sessions with a notice when the
 * connection cannot use them, e.g. a key with a passphrase), with the same verification and resume.
 */
function targetOn(host: Host, spec: ParallelTransferSpec): Target {
  if (host instanceof SshHost) return { kind: "ssh", connection: host.connectionSpec, path: spec.destination, transport: "auto" };
  return { kind: "custom", destination: new LocalDestination(spec.streams ?? 1), path: spec.destination };
}

export const kind: HostKind<ParallelTransferSpec, ParallelTransferState> = {
  name: "ParallelTransfer",
  version: 1,
  validate: (spec) => validateTransferSpec(spec),
  render: (spec) => ({ fingerprint: spec.sourceFingerprint }),
  async probe(host, spec) {
    const lines = await listRemote(host, spec.destination, spec.changeDetection);
    return lines === undefined ? undefined : { fingerprint: fingerprintOf(lines) };
  },
  async apply(host, ctx) {
    const { spec, desired, live, log, previous } = ctx;
    const key = spec.destination;
    if (live && live.fingerprint === desired.fingerprint) {
      // Same content already there (e.g. only `streams` changed): keep the last figures.
      const prev = previous?.extra as Partial<TransferRun> | undefined;
      if (prev && typeof prev.bytes === "number") lastRuns.set(key, prev as TransferRun);
      log(`${spec.destination} on ${host.label} already matches ${spec.source}; nothing to copy`);
      return;
    }
    let nextReport = 0.25;
    const target = targetOn(host, spec);
    const r = await copy(spec.source, target, {
      exactDestination: true,
      streams: spec.streams,
      chunkSize: spec.chunkSizeBytes,
      verify: spec.verify,
      resume: true,
      onEvent: (e) => {
        if (e.type === "notice") log(e.message);
        else if (e.type === "start") log(`copying ${spec.source} -> ${e.destination}: ${e.totalBytes} bytes, ${e.files} files, ${e.streams} streams`);
        else if (e.type === "progress" && e.totalBytes && e.doneBytes / e.totalBytes >= nextReport) {
          log(`${Math.round((100 * e.doneBytes) / e.totalBytes)}% of ${spec.source}`);
          nextReport += 0.25;
        }
      },
    });
    if (target.kind === "custom") await target.destination.close();
    log(`copied ${r.bytes} bytes in ${r.seconds.toFixed(2)} s (${r.mibps.toFixed(0)} MiB/s, ${r.streams} streams over ${r.transport}${r.verify ? `, verified (${r.hash})` : ""})`);
    lastRuns.set(key, {
      bytes: r.bytes,
      files: r.files,
      seconds: Number(r.seconds.toFixed(3)),
      mibps: Number(r.mibps.toFixed(1)),
      streams: r.streams,
      copiedAt: new Date().toISOString(),
    });
  },
  /**
   * Deletes only what this resource copied: never `/`, a system directory or an entry directly
   * inside one (`protectedPathReason`), and of the destination only the files the source has
   * (or every file when the destination still fingerprints as the copy kvmshare made), then the
   * directories those leave empty. Files added by others stay, and so do their directories.
   */
  async remove(host, spec, observed, log) {
    const dest = spec.destination;
    if (!spec.allowDestroy) {
      log(`leaving ${dest} on ${host.label} in place (set allowDestroy: true to delete it on destroy)`);
      return;
    }
    const guarded = protectedPathReason(dest);
    if (guarded || typeof dest !== "string" || !dest.startsWith("/") || path.posix.normalize(dest) !== dest) {
      log(`not deleting ${dest} on ${host.label}: it ${guarded ?? "is not a normalized absolute path"}; kvmshare never deletes such a path (delete it by hand if it really is the copy)`);
      return;
    }
    const there = await listRemote(host, dest, spec.changeDetection);
    if (!there) {
      log(`${dest} on ${host.label} is already gone`);
      return;
    }
    const ours = new Set<string>();
    const copied = observed?.fingerprint ?? spec.sourceFingerprint;
    if (typeof copied === "string" && fingerprintOf(there) === copied) there.forEach((l) => ours.add(l.rel));
    if (typeof spec.source === "string" && fs.existsSync(spec.source)) {
      for (const l of listLocal(spec.source, "mtime")) ours.add(l.rel);
    }
    const mine = there.filter((l) => ours.has(l.rel));
    const kept = there.length - mine.length;
    if (mine.length === 1 && mine[0].rel === "" && there.length === 1) {
      await host.run(["rm", "-f", "--", dest]);
      log(`removed ${dest} on ${host.label}`);
      return;
    }
    const files = mine.filter((l) => l.rel !== "" && !l.rel.split("/").some((x) => x === "" || x === "." || x === "..")).map((l) => path.posix.join(dest, l.rel));
    for (let i = 0; i < files.length; i += 500) await host.run(["rm", "-f", "--", ...files.slice(i, i + 500)]);
    // The directories the removed files leave empty, deepest first, then the destination itself.
    const dirs = new Set<string>();
    for (const f of files) for (let d = path.posix.dirname(f); d.length > dest.length; d = path.posix.dirname(d)) dirs.add(d);
    const ordered = [...dirs].sort((a, b) => b.split("/").length - a.split("/").length || (a < b ? 1 : -1));
    for (let i = 0; i < ordered.length; i += 500) await host.run(["rmdir", "--ignore-fail-on-non-empty", "--", ...ordered.slice(i, i + 500)], { check: false });
    await host.run(["rmdir", "--ignore-fail-on-non-empty", "--", dest], { check: false });
    log(
      `removed ${files.length} file${files.length === 1 ? "" : "s"} kvmshare copied to ${dest} on ${host.label}` +
        (kept ? `; left ${kept} file${kept === 1 ? "" : "s"} it did not write (and the directories holding them)` : ""),
    );
  },
  outputs(spec) {
    const run = lastRuns.get(spec.destination);
    lastRuns.delete(spec.destination);
    return run ? ({ ...run } as Record<string, Json>) : {};
  },
  id: (spec) => `ParallelTransfer:${spec.destination}`,
};

