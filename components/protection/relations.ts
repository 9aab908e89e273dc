/**
 * Self-references of the protection components, refused at preview: a replication whose target
 * is its source (the live dataset is received over and turned read-only), holds it (`receive -F`
 * destroys what the stream lacks, the source among it) or sits inside it, and a restore drill that
 * compares a dataset with itself (always "match": a check that cannot fail).
 */
import { ConnectionSpec } from "../../core/connection";
import { isUnknown } from "../../core/validate";
import { nesting } from "../../core/writePaths";
import type { ZfsDataset } from "../storage";

/** Host names and addresses that are the machine itself. */
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|0:0:0:0:0:0:0:1)$/i;

/** A plain, known connection reduced to the host it reaches ("local" for this machine), or undefined when not known yet. */
function hostOf(conn: unknown): string | undefined {
  if (conn === undefined) return "local";
  if (conn === null || typeof conn !== "object" || isUnknown(conn)) return undefined;
  const c = conn as Partial<ConnectionSpec> & { host?: unknown; port?: unknown };
  if (c.kind === "local") return "local";
  if (c.kind !== "ssh" || typeof c.host !== "string") return undefined;
  return LOOPBACK.test(c.host) ? "local" : `${c.host.toLowerCase()}:${typeof c.port === "number" ? c.port : 22}`;
}

/** The source's connection as the components resolve it: `connection`, else the dataset component's (see onDataset). */
export function sourceConnection(source: ZfsDataset | string, connection: unknown): unknown {
  return connection ?? (typeof source === "string" ? undefined : source.connection);
}

/**
 * Do two connections reach the same host? `target` undefined means "the source's host" (the
 * protection components' default); values not known yet (Outputs) are never the same.
 */
export function sameHost(source: unknown, target: unknown): boolean {
  if (target === undefined) return true;
  const s = hostOf(source);
  return s !== undefined && s === hostOf(target);
}

/** How `target` relates to `source` as datasets on one host, or undefined when they are apart. */
export function datasetOverlap(source: unknown, target: unknown): "same" | "inside" | "holds" | undefined {
  if (typeof source !== "string" || typeof target !== "string" || isUnknown(source) || isUnknown(target)) return undefined;
  return nesting(source, target);
}

const REPLICATION: Record<"same" | "inside" | "holds", string> = {
  same: "is the source dataset itself on the same host: receiving into it would roll back the live data and turn it read-only",
  inside: "is inside the source dataset on the same host: the replica would sit in what it copies, and a recursive send would take it along",
  holds: "holds the source dataset on the same host: 'zfs receive -F' into it destroys what the stream lacks, the source among it",
};

/** The problem with a replication's target on the same host as its source, or undefined. */
export function replicationSelfReference(source: unknown, target: unknown): string | undefined {
  const o = datasetOverlap(source, target);
  return o && `${REPLICATION[o]}; replicate to another pool or dataset tree (e.g. 'backup/...') or set targetConnection to another host`;
}

/** The problem with a drill comparing a dataset with itself, or undefined. */
export function drillSelfReference(source: unknown, target: unknown): string | undefined {
  return datasetOverlap(source, target) === "same"
    ? "is the source dataset itself on the same host: the drill would compare it with itself and always report a match (a check that cannot fail); name the replication's target"
    : undefined;
}
