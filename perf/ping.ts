/**
 * Packet loss to a peer, measured with iputils `ping` on the host the check runs on.
 */
import * as net from "net";
import { Problem } from "../core/errors";
import { isHostname, isUnknown } from "../core/validate";

/** Where and how to measure packet loss. */
export interface LossOptions {
  /** Address or host name to ping (e.g. the guest or the NFS server). */
  target: string;
  /** Echo requests to send. Loss resolution is 100/count %, so 1000 resolves the 0.1 % of the reference preset. @default 100 */
  count?: number;
  /** Gap between requests, ms (below 200 needs root on the host). @default 200 */
  intervalMs?: number;
  /** How long to wait for the last reply, seconds. @default 2 */
  waitSec?: number;
}

export const LOSS_DEFAULTS = Object.freeze({ count: 100, intervalMs: 200, waitSec: 2 });

export interface PingResult {
  transmitted: number;
  received: number;
  /** (transmitted - received) / transmitted, percent; 100 when nothing could be sent. */
  lossPercent: number;
  /** Round-trip times, ms (absent when nothing came back). */
  rttMinMs?: number;
  rttAvgMs?: number;
  rttMaxMs?: number;
  /** Send errors ping counted (`+N errors`), or why nothing could be sent. */
  errors?: number;
  note?: string;
}

export function validateLossOptions(o: LossOptions | undefined, prefix = "loss."): Problem[] {
  const problems: Problem[] = [];
  if (o === undefined || isUnknown(o)) return problems;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    return [{ field: prefix.replace(/\.$/, ""), value: o, message: "must be an object such as { target: '192.168.122.10' }" }];
  }
  const t = o.target;
  if (t === undefined || t === "") problems.push({ field: `${prefix}target`, value: t, message: "is required: the address or host name to ping" });
  else if (!isUnknown(t) && (typeof t !== "string" || !(net.isIP(t) || isHostname(t)))) {
    problems.push({ field: `${prefix}target`, value: t, message: "must be an IP address or a host name (no CIDR, no options)" });
  }
  const int = (f: "count" | "intervalMs" | "waitSec", min: number, max: number, eg: string) => {
    const v = o[f];
    if (v === undefined || isUnknown(v)) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) problems.push({ field: `${prefix}${f}`, value: v, message: `must be an integer from ${min} to ${max}, e.g. ${eg}` });
  };
  int("count", 1, 1_000_000, "100 (loss resolution is 100/count %)");
  int("intervalMs", 2, 60_000, "200");
  int("waitSec", 1, 60, "2");
  return problems;
}

/**
 * The ping argv: numeric, quiet summary, exactly `count` requests. (No `-w` deadline: with one,
 * iputils ping keeps sending until `count` replies arrive, which skews the loss figure.)
 */
export function buildPingArgs(o: LossOptions): string[] {
  const count = o.count ?? LOSS_DEFAULTS.count;
  const intervalMs = o.intervalMs ?? LOSS_DEFAULTS.intervalMs;
  const waitSec = o.waitSec ?? LOSS_DEFAULTS.waitSec;
  return ["ping", "-n", "-q", "-c", String(count), "-i", String(intervalMs / 1000), "-W", String(waitSec), o.target];
}

/** How long ping should take at most, ms (for the command's timeout). */
export function pingDurationMs(o: LossOptions): number {
  const count = o.count ?? LOSS_DEFAULTS.count;
  return count * (o.intervalMs ?? LOSS_DEFAULTS.intervalMs) + ((o.waitSec ?? LOSS_DEFAULTS.waitSec) + 1) * 1000;
}

const SEND_FAILURE = /(network is unreachable|network is down|no route to host|no buffer space available|destination host unreachable)/i;

/**
 * Parse ping's summary. When ping could not send at all because the path is down, that is
 * 100 % loss (with a note); other failures (unknown host, bad option) throw.
 */
export function parsePing(stdout: string, stderr = ""): PingResult {
  const stats = /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?/.exec(stdout);
  if (stats) {
    const transmitted = Number(stats[1]);
    const received = Number(stats[2]);
    const out: PingResult = {
      transmitted,
      received,
      lossPercent: transmitted > 0 ? ((transmitted - received) / transmitted) * 100 : 100,
    };
    if (stats[4]) out.errors = Number(stats[4]);
    const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/[\d.]+ ms/.exec(stdout);
    if (rtt) {
      out.rttMinMs = Number(rtt[1]);
      out.rttAvgMs = Number(rtt[2]);
      out.rttMaxMs = Number(rtt[3]);
    }
    const err = SEND_FAILURE.exec(stderr + "\n" + stdout);
    if (err && received < transmitted) out.note = err[1];
    return out;
  }
  const err = SEND_FAILURE.exec(stderr + "\n" + stdout);
  if (err) return { transmitted: 0, received: 0, lossPercent: 100, note: `nothing could be sent: ${err[1]}` };
  throw new Error(`ping failed: ${(stderr || stdout).trim().slice(0, 300) || "(no output)"}`);
}
