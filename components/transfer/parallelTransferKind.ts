/**
 * Kind: a copy of a local file or directory to a path on a host, made by the transfer engine.
 * Desired state = the source's fingerprint (computed by the component at program time);
 * observed state = the destination's fingerprint on the host. So the copy runs when the source
 * changed or the destination drifted, and nothing happens otherwise.
 */
import { Host, SshHost } from "../../core/connection";
import { HostKind, Json } from "../../core/hostKind";
import * as os from "os";
import { copy, Target } from "../../transfer/engine";
import { LocalDestination } from "../../transfer/local";
import { defaultStreams } from "../../transfer/plan";
import { SftpDestination } from "../../transfer/sftp";
import { fingerprintOf, listRemote } from "./fingerprint";
import { ParallelTransferSpec, validateTransferSpec } from "./parallelTransferArgs";

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

/** The engine's destination on the host the provider connected to (SFTP sessions over its SSH connection). */
async function targetOn(host: Host, spec: ParallelTransferSpec): Promise<Target> {
  if (host instanceof SshHost) {
    const streams = spec.streams ?? defaultStreams({ cores: os.availableParallelism(), destination: "ssh" });
    return { kind: "custom", destination: await SftpDestination.onHost(host, streams), path: spec.destination };
  }
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
    const target = await targetOn(host, spec);
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
    log(`copied ${r.bytes} bytes in ${r.seconds.toFixed(2)} s (${r.mibps.toFixed(0)} MiB/s, ${r.streams} streams)`);
    lastRuns.set(key, {
      bytes: r.bytes,
      files: r.files,
      seconds: Number(r.seconds.toFixed(3)),
      mibps: Number(r.mibps.toFixed(1)),
      streams: r.streams,
      copiedAt: new Date().toISOString(),
    });
  },
  async remove(host, spec, _observed, log) {
    if (!spec.allowDestroy) {
      log(`leaving ${spec.destination} on ${host.label} in place (set allowDestroy: true to delete it on destroy)`);
      return;
    }
    await host.run(["rm", "-rf", "--", spec.destination]);
    log(`removed ${spec.destination} on ${host.label}`);
  },
  outputs(spec) {
    const run = lastRuns.get(spec.destination);
    lastRuns.delete(spec.destination);
    return run ? ({ ...run } as Record<string, Json>) : {};
  },
  id: (spec) => `ParallelTransfer:${spec.destination}`,
};

