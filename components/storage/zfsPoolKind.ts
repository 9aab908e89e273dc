/**
 * Kind: a ZFS pool. Created once (`zpool create`), or imported when a pool of that name sits
 * exported on the declared devices; properties kept in line with `zpool set`; removed by
 * `zpool export` (its data stays) unless `allowDestroy` says `zpool destroy`.
 *
 * A device that already carries a pool or file system is refused at preview (`blkid -p`, which
 * reads ZFS labels too), and the layout of an existing pool is never changed behind the user's
 * back: kvmshare never re-creates a pool.
 */
import * as path from "path";
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { datasetExists, driftedProperties, parsePoolConfig, projectProperties, runZfs, VdevObserved, zfsGet, zpoolGet } from "./zfsCli";
import { describeZfs, detectZfs, unmet } from "./zfsFeatures";
import { POOL_PROPERTIES, validatePoolSpec, VdevSpec, ZfsPoolSpec } from "./zfsPoolArgs";

export type ZfsPoolState = {
  vdevs: VdevObserved[];
  properties: Record<string, string>;
  mountpoint?: string;
  guid?: string;
  sizeBytes?: number;
  health?: string;
};

/** Does the observed device name (zpool status prints `sdb` for `/dev/sdb`) stand for the declared path? */
export function sameDevice(declared: string, observed: string): boolean {
  return declared === observed || declared.endsWith("/" + observed);
}

function sameVdevs(declared: VdevObserved[], observed: VdevObserved[] | undefined): boolean {
  if (!observed || declared.length !== observed.length) return false;
  return declared.every((d, i) => {
    const o = observed[i];
    return o.type === d.type && o.devices.length === d.devices.length && d.devices.every((dev, j) => sameDevice(dev, o.devices[j]));
  });
}

function render(spec: ZfsPoolSpec): ZfsPoolState {
  const s: ZfsPoolState = {
    vdevs: spec.vdevs.map((v) => ({ type: v.type, devices: [...v.devices] })),
    properties: { ...(spec.properties ?? {}) },
  };
  if (spec.mountpoint !== undefined) s.mountpoint = spec.mountpoint;
  return s;
}

async function probe(host: Host, spec: ZfsPoolSpec): Promise<ZfsPoolState | undefined> {
  const info = await detectZfs(host);
  if (info.implementation === "none") return undefined;
  const st = await host.run(["zpool", "status", spec.name], { check: false });
  if (st.code !== 0) return undefined;
  const props = await zpoolGet(host, info, spec.name, ["guid", "size", "health", ...Object.keys(spec.properties ?? {})]);
  const root = await zfsGet(host, [spec.name], ["mountpoint"]);
  const properties: Record<string, string> = {};
  for (const k of Object.keys(spec.properties ?? {})) if (props?.[k] !== undefined) properties[k] = props[k];
  const s: ZfsPoolState = {
    vdevs: parsePoolConfig(st.stdout, spec.name),
    properties,
    guid: props?.guid,
    sizeBytes: props?.size !== undefined ? Number(props.size) : undefined,
    health: props?.health,
  };
  const mp = root.get(spec.name)?.mountpoint?.value;
  if (spec.mountpoint !== undefined && mp !== undefined) s.mountpoint = mp;
  return s;
}

function isFilePath(dev: string): boolean {
  return !dev.startsWith("/dev/");
}

/** Directories to search for exported pools on file devices (`zpool import -d`). */
function importDirs(spec: ZfsPoolSpec): string[] {
  const dirs = new Set<string>();
  for (const v of spec.vdevs) for (const d of v.devices) if (isFilePath(d)) dirs.add(path.dirname(d));
  return [...dirs];
}

/** Exported pools that `zpool import` can see, by name. */
async function importable(host: Host, spec: ZfsPoolSpec): Promise<string[]> {
  const argv = ["zpool", "import"];
  for (const d of importDirs(spec)) argv.push("-d", d);
  const r = await host.run(argv, { check: false });
  return [...r.stdout.matchAll(/^\s*pool: (\S+)$/gm)].map((m) => m[1]);
}

/** What is on a device: undefined when nothing (blank), else e.g. `zfs_member (pool 'tank')`. */
export async function deviceSignature(host: Host, dev: string): Promise<{ type: string; label?: string } | undefined> {
  const r = await host.run(["blkid", "-p", "-o", "export", dev], { check: false });
  if (r.code === 2 || (r.code === 0 && !r.stdout.trim())) return undefined;
  if (r.code !== 0) throw new Error(`blkid -p ${dev} failed on ${host.label} (exit ${r.code}): ${r.stderr.trim()}`);
  const kv = Object.fromEntries(r.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const type = kv.TYPE ?? (kv.PTTYPE ? `partition table ${kv.PTTYPE}` : "unknown signature");
  return { type, label: kv.LABEL };
}

async function preflight(host: Host, spec: ZfsPoolSpec): Promise<Problem[]> {
  const info = await detectZfs(host);
  if (info.implementation === "none") return unmet(info, host.label, []);
  const problems: Problem[] = [];
  if (info.implementation === "zfs-fuse") {
    if (spec.ashift !== undefined && spec.ashift > 13) {
      problems.push({ field: "ashift", value: spec.ashift, message: `${describeZfs(info)} on ${host.label} accepts ashift 9 to 13; use 12 (4 KiB sectors)` });
    }
    for (const k of Object.keys(spec.properties ?? {})) {
      if (POOL_PROPERTIES[k]?.openzfsOnly) {
        problems.push({ field: `properties.${k}`, value: spec.properties![k], message: `${describeZfs(info)} on ${host.label} has no pool property '${k}' (OpenZFS only); drop it for this host` });
      }
    }
  }
  const exists = (await host.run(["zpool", "list", "-H", "-o", "name", spec.name], { check: false })).code === 0;
  if (exists) return problems; // its devices are checked against the layout in apply
  const exported = (await importable(host, spec)).includes(spec.name);
  for (const [i, v] of spec.vdevs.entries()) {
    for (const [j, dev] of v.devices.entries()) {
      const field = `vdevs[${i}].devices[${j}]`;
      const there = await host.run(["test", "-e", dev], { check: false });
      if (there.code !== 0) {
        if (!isFilePath(dev)) problems.push({ field, value: dev, message: `no such device on ${host.label}` });
        else if (spec.fileSizeMiB === undefined) {
          problems.push({ field, value: dev, message: `no such file on ${host.label}; create it (truncate -s 1G ${dev}) or set fileSizeMiB to let kvmshare create it` });
        } else if ((await host.run(["test", "-d", path.dirname(dev)], { check: false })).code !== 0) {
          problems.push({ field, value: dev, message: `its directory ${path.dirname(dev)} does not exist on ${host.label}` });
        }
        continue;
      }
      const sig = await deviceSignature(host, dev);
      if (!sig) continue;
      if (sig.type === "zfs_member" && sig.label === spec.name && exported) continue; // will be imported
      problems.push({
        field,
        value: dev,
        message:
          `already carries ${sig.type === "zfs_member" ? `a ZFS pool ('${sig.label ?? "?"}')` : `a ${sig.type} file system${sig.label ? ` labelled '${sig.label}'` : ""}`} on ${host.label}; ` +
          "kvmshare never overwrites a device that holds data: pick another device, or wipe it yourself (zpool labelclear / wipefs -a) if it is really free",
      });
    }
  }
  return problems;
}

function vdevArgs(spec: ZfsPoolSpec): string[] {
  const out: string[] = [];
  for (const v of spec.vdevs) {
    if (v.type !== "disk") out.push(v.type);
    out.push(...v.devices);
  }
  return out;
}

export const kind: HostKind<ZfsPoolSpec, ZfsPoolState> = {
  name: "ZfsPool",
  version: 1,
  validate: (spec) => validatePoolSpec(spec),
  preflight,
  render,
  probe,
  compare(desired, observed) {
    const out: string[] = [];
    if (!sameVdevs(desired.vdevs, observed.vdevs)) out.push("vdevs");
    out.push(...driftedProperties(desired.properties, observed.properties));
    if (desired.mountpoint !== undefined && observed.mountpoint !== desired.mountpoint) out.push("mountpoint");
    return out;
  },
  dataLoss: (spec, fields) =>
    fields.includes("vdevs")
      ? `not even allowDestroy re-creates pool '${spec.name}' (that would destroy its data): reshape it by hand (zpool attach/add/replace) or declare the layout that is there`
      : undefined,
  project(spec, observed) {
    // Only the fields the program declares, in the user's spelling where the host agrees: a
    // refresh without drift must leave the inputs as they were (the real engine shows any change).
    const p: ZfsPoolSpec = spec.properties === undefined ? { ...spec } : { ...spec, properties: projectProperties(spec.properties, observed.properties, (_k, v, seen) => seen === String(v)) };
    if (spec.mountpoint !== undefined && observed.mountpoint !== undefined && observed.mountpoint !== spec.mountpoint) p.mountpoint = observed.mountpoint;
    if (!sameVdevs(render(spec).vdevs, observed.vdevs)) p.vdevs = observed.vdevs as VdevSpec[];
    return p;
  },
  outputs: (spec, observed) => ({
    name: spec.name,
    guid: observed?.guid ?? null,
    sizeBytes: observed?.sizeBytes ?? null,
    health: observed?.health ?? null,
  }),
  replaceOn: ["name"],
  async apply(host, { spec, desired, live, log }) {
    if (live) {
      if (!sameVdevs(desired.vdevs, live.vdevs)) {
        throw new Error(
          `vdevs: pool '${spec.name}' on ${host.label} has ${JSON.stringify(live.vdevs)}, the program declares ${JSON.stringify(desired.vdevs)}; ` +
            "kvmshare never re-creates or reshapes a pool: change it by hand (zpool attach/add/replace) and declare what is there",
        );
      }
      for (const [k, v] of Object.entries(desired.properties)) {
        if (live.properties[k] !== v) {
          await runZfs(host, ["zpool", "set", `${k}=${v}`, spec.name]);
          log(`set ${k}=${v} on pool ${spec.name}`);
        }
      }
      if (desired.mountpoint !== undefined && live.mountpoint !== desired.mountpoint) {
        await runZfs(host, ["zfs", "set", `mountpoint=${desired.mountpoint}`, spec.name]);
      }
      return;
    }
    if ((await importable(host, spec)).includes(spec.name)) {
      const argv = ["zpool", "import"];
      for (const d of importDirs(spec)) argv.push("-d", d);
      await runZfs(host, [...argv, spec.name]);
      log(`imported existing pool ${spec.name} on ${host.label}`);
      const now = await probe(host, spec);
      if (now && !sameVdevs(desired.vdevs, now.vdevs)) {
        throw new Error(`vdevs: the exported pool '${spec.name}' that was imported has ${JSON.stringify(now.vdevs)}, not the declared layout; declare what is there`);
      }
      return kind.apply(host, { spec, desired, live: now, secrets: {}, log });
    }
    for (const v of spec.vdevs) {
      for (const dev of v.devices) {
        if (spec.fileSizeMiB !== undefined && isFilePath(dev) && (await host.run(["test", "-e", dev], { check: false })).code !== 0) {
          await host.run(["truncate", "-s", `${spec.fileSizeMiB}M`, dev]);
          log(`created sparse file ${dev} (${spec.fileSizeMiB} MiB)`);
        }
      }
    }
    const argv = ["zpool", "create"];
    if (spec.ashift !== undefined) argv.push("-o", `ashift=${spec.ashift}`);
    for (const [k, v] of Object.entries(spec.properties ?? {})) argv.push("-o", `${k}=${v}`);
    if (spec.mountpoint !== undefined) argv.push("-m", spec.mountpoint);
    argv.push(spec.name, ...vdevArgs(spec));
    await runZfs(host, argv);
    log(`created pool ${spec.name} on ${host.label}`);
  },
  async remove(host, spec, _observed, log) {
    if ((await host.run(["zpool", "list", "-H", "-o", "name", spec.name], { check: false })).code !== 0) return;
    if (spec.allowDestroy === true) {
      await runZfs(host, ["zpool", "destroy", spec.name], {}, 10);
      log(`destroyed pool ${spec.name} on ${host.label} (allowDestroy: true)`);
      // The sparse files kvmshare makes for a file-backed pool (fileSizeMiB) held only this pool.
      if (spec.fileSizeMiB !== undefined) {
        for (const dev of spec.vdevs.flatMap((v) => v.devices).filter(isFilePath)) {
          if (await host.removeFile(dev)) log(`removed vdev file ${dev}`);
        }
      }
    } else {
      await runZfs(host, ["zpool", "export", spec.name], {}, 10);
      log(`exported pool ${spec.name} on ${host.label}; its data stays on the devices (set allowDestroy: true to destroy it)`);
    }
  },
};

/** Used by the dataset kind to say which pool is missing. */
export async function poolOf(host: Host, dataset: string): Promise<boolean> {
  return datasetExists(host, dataset.split("/")[0]);
}
