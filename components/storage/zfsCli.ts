/**
 * Small wrappers around the `zfs`/`zpool` commands that work the same on OpenZFS and zfs-fuse
 * (which lacks `zfs list -p`, `zpool list -p` and `zpool get -H`). Every call is an argv array:
 * no value ever reaches a shell.
 */
import { CommandError, Host, RunOptions, RunResult } from "../../core/connection";
import { ZfsInfo } from "./zfsFeatures";

const UNIT: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5, E: 1024 ** 6 };

/** Parse a rounded size as `zpool list` prints it ("250M", "1.82T", "0"); undefined when it is not one. */
export function parseHumanSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([BKMGTPE]?)$/.exec(v.trim());
  if (!m) return undefined;
  return Math.round(parseFloat(m[1]) * UNIT[m[2] || "B"]);
}

/** Run a zfs/zpool command, retrying while zfs-fuse (or a slow unmount) says the pool or dataset is busy. */
export async function runZfs(host: Host, argv: string[], opts: RunOptions = {}, attempts = 5): Promise<RunResult> {
  for (let i = 1; ; i++) {
    try {
      return await host.run(argv, opts);
    } catch (e) {
      if (i >= attempts || !(e instanceof CommandError) || !/busy/i.test(e.stderr)) throw e;
      await new Promise((r) => setTimeout(r, 300 * i));
    }
  }
}

export interface PropValue {
  value: string;
  source: string;
}

/**
 * `zfs get -Hp` of some properties on some datasets/snapshots (zfs-fuse supports `get -Hp`).
 * Returns name -> property -> {value, source}; names that do not exist are absent.
 */
export async function zfsGet(
  host: Host,
  names: string[],
  props: string[],
  opts: { recursive?: boolean; depth?: number } = {},
): Promise<Map<string, Record<string, PropValue>>> {
  const out = new Map<string, Record<string, PropValue>>();
  if (!names.length || !props.length) return out;
  const argv = ["zfs", "get", "-Hp"];
  if (opts.recursive) argv.push("-r");
  if (opts.depth !== undefined) argv.push("-d", String(opts.depth));
  argv.push("-o", "name,property,value,source", props.join(","), ...names);
  const r = await host.run(argv, { check: false });
  if (r.code !== 0 && !/does not exist/.test(r.stderr)) {
    throw new CommandError(argv, r.code, r.stderr, host.label);
  }
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const [name, prop, value, source] = line.split("\t");
    if (!out.has(name)) out.set(name, {});
    out.get(name)![prop] = { value, source: source ?? "" };
  }
  return out;
}

/** `properties.<k>` for every declared property the host shows with another value (drift). */
export function driftedProperties(desired: Record<string, string>, observed: Record<string, string> | undefined): string[] {
  return Object.entries(desired).filter(([k, v]) => observed?.[k] !== v).map(([k]) => `properties.${k}`);
}

/**
 * The declared properties as the host has them, for `project`: a property the host disagrees
 * with takes the host's value; one it agrees with keeps the user's spelling, so a refresh
 * without drift leaves the inputs as they were and only a drifted field shows.
 */
export function projectProperties<P extends object>(declared: P, observed: Record<string, string> | undefined, agrees: (name: string, declared: unknown, seen: string) => boolean): P {
  const out = { ...declared } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) {
    const seen = observed?.[k];
    if (seen !== undefined && !agrees(k, v, seen)) out[k] = seen;
  }
  return out as P;
}

export async function datasetExists(host: Host, name: string): Promise<boolean> {
  const r = await host.run(["zfs", "list", "-H", "-o", "name", name], { check: false });
  return r.code === 0 && r.stdout.trim() === name;
}

export interface SnapshotInfo {
  /** Full name `pool/ds@snap`. */
  name: string;
  /** The part after '@'. */
  snap: string;
  guid: string;
  createtxg: number;
  /** Seconds since the epoch. */
  creation: number;
  /** User properties asked for, with where they came from. */
  props: Record<string, PropValue>;
}

/** The snapshots of one dataset (not its children), oldest first. */
export async function listSnapshots(host: Host, dataset: string, userProps: string[] = []): Promise<SnapshotInfo[]> {
  const got = await zfsGet(host, [dataset], ["guid", "createtxg", "creation", ...userProps], { recursive: true, depth: 1 });
  const snaps: SnapshotInfo[] = [];
  for (const [name, p] of got) {
    if (!name.startsWith(dataset + "@")) continue;
    const props: Record<string, PropValue> = {};
    for (const u of userProps) if (p[u]) props[u] = p[u];
    snaps.push({
      name,
      snap: name.slice(dataset.length + 1),
      guid: p.guid?.value ?? "",
      createtxg: Number(p.createtxg?.value ?? 0),
      creation: Number(p.creation?.value ?? 0),
      props,
    });
  }
  return snaps.sort((a, b) => a.createtxg - b.createtxg);
}

/** Pool properties (`zpool get`), on OpenZFS with `-Hp`, on zfs-fuse by parsing its table. */
export async function zpoolGet(host: Host, info: ZfsInfo, pool: string, props: string[]): Promise<Record<string, string> | undefined> {
  const parsable = info.features.parsableList;
  const argv = parsable ? ["zpool", "get", "-Hp", "-o", "property,value", props.join(","), pool] : ["zpool", "get", props.join(","), pool];
  const r = await host.run(argv, { check: false });
  if (r.code !== 0) return undefined;
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    if (parsable) {
      const [k, v] = line.split("\t");
      out[k] = v;
    } else {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === "NAME" && cols[1] === "PROPERTY") continue;
      if (cols[0] === pool && cols.length >= 3) out[cols[1]] = cols[2];
    }
  }
  if (!parsable) {
    for (const k of ["size", "allocated", "free"]) {
      if (out[k] !== undefined) out[k] = String(parseHumanSize(out[k]) ?? out[k]);
    }
  }
  return out;
}

export type VdevObserved = {
  /** disk | mirror | raidz1 | raidz2 | raidz3 */
  type: string;
  devices: string[];
};

/** Parse the `config:` section of `zpool status` (or `zpool import`) into data vdevs. */
export function parsePoolConfig(status: string, pool: string): VdevObserved[] {
  const lines = status.split("\n");
  const start = lines.findIndex((l) => /^\s*config:/.test(l));
  if (start < 0) return [];
  const vdevs: VdevObserved[] = [];
  let poolIndent = -1;
  let groupIndent = -1;
  let current: VdevObserved | undefined;
  for (const line of lines.slice(start + 1)) {
    if (/^\s*errors:/.test(line)) break;
    const m = /^(\s+)(\S+)/.exec(line);
    if (!m) continue;
    const indent = m[1].replace(/\t/g, "        ").length;
    const token = m[2];
    if (token === "NAME") continue;
    if (poolIndent < 0) {
      if (token === pool) poolIndent = indent;
      continue;
    }
    if (indent <= poolIndent) break; // logs/cache/spares sections start at the pool's indent
    if (groupIndent < 0 || indent === groupIndent) {
      groupIndent = indent;
      const g = /^(mirror|raidz([123])?)-\d+$/.exec(token);
      if (g) {
        current = { type: g[1] === "raidz" ? "raidz1" : g[1], devices: [] };
        vdevs.push(current);
      } else {
        current = undefined;
        vdevs.push({ type: "disk", devices: [token] });
      }
    } else if (indent > groupIndent && current) {
      current.devices.push(token);
    }
  }
  return vdevs;
}
