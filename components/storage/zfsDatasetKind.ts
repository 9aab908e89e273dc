/**
 * Kind: a ZFS dataset (file system) with properties and POSIX ACL entries on its mount point.
 * Properties are compared as `zfs get -Hp` prints them, so `zfs set atime=on` by hand shows up
 * as drift after refresh and is put back by the next up. A property that leaves the program is
 * inherited again (or set to `none` where ZFS cannot inherit it). Removal leaves the dataset and
 * its data in place unless `allowDestroy`.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { parseMode } from "../../core/validate";
import { HostKind, sameJson } from "../../core/hostKind";
import { applyAcl, normalizeAclEntry, observedFor, readAcl } from "./acl";
import { driftedProperties, projectProperties, runZfs, zfsGet } from "./zfsCli";
import { validateDatasetSpec, ZfsDatasetSpec } from "./zfsDatasetArgs";
import { detectZfs, Requirement, unmet } from "./zfsFeatures";
import { normalizeObserved, normalizeProperties, normalizeValue, propertyRequirements, propertyRule } from "./zfsProps";

export type ZfsDatasetState = {
  properties: Record<string, string>;
  acl?: string[];
  /** The root directory's permission bits, 4 octal digits (`stat -c %a`, padded). */
  mode?: string;
  guid?: string;
  mountpoint?: string;
  usedBytes?: number;
  availableBytes?: number;
};


/** What the spec asks of the host's ZFS. */
export function datasetRequirements(spec: ZfsDatasetSpec, prefix = ""): Requirement[] {
  const reqs = propertyRequirements(spec.properties as Record<string, unknown>, `${prefix}properties.`);
  if (spec.acl?.length) reqs.push({ field: `${prefix}acl`, value: spec.acl, feature: "posixAcl" });
  return reqs;
}

/** What a dataset that is not mounted shows for its mount point's ACL and mode. */
const NOT_MOUNTED = "<not mounted>";

/** A mode as `stat -c %a` prints it, padded to 4 digits (`"775"` and `"0775"` -> `"0775"`). */
function modeOf(v: string): string {
  const n = parseMode(v);
  return n === undefined ? v : n.toString(8).padStart(4, "0");
}

function render(spec: ZfsDatasetSpec): ZfsDatasetState {
  const s: ZfsDatasetState = { properties: normalizeProperties(spec.properties as Record<string, string>) };
  if (spec.acl?.length) s.acl = spec.acl.map((e) => normalizeAclEntry(e) ?? e);
  if (spec.mode !== undefined) s.mode = modeOf(spec.mode);
  return s;
}

async function probe(host: Host, spec: ZfsDatasetSpec): Promise<ZfsDatasetState | undefined> {
  const declared = Object.keys(spec.properties ?? {});
  const got = await zfsGet(host, [spec.name], [...new Set(["type", "guid", "mountpoint", "mounted", "used", "available", ...declared])]);
  const p = got.get(spec.name);
  if (!p) return undefined;
  const properties: Record<string, string> = {};
  for (const k of declared) {
    // An unset user property reads "-" with source "-".
    if (p[k] !== undefined) properties[k] = p[k].source === "-" && k.includes(":") ? "" : normalizeObserved(k, p[k].value);
  }
  const s: ZfsDatasetState = {
    properties,
    guid: p.guid?.value,
    mountpoint: p.mountpoint?.value,
    usedBytes: Number(p.used?.value),
    availableBytes: Number(p.available?.value),
  };
  const mp = p.mounted?.value === "yes" && p.mountpoint?.value.startsWith("/") ? p.mountpoint.value : undefined;
  if (spec.acl?.length) s.acl = mp ? observedFor(spec.acl, await readAcl(host, mp)) : spec.acl.map(() => NOT_MOUNTED);
  if (spec.mode !== undefined) s.mode = mp ? modeOf((await host.run(["stat", "-c", "%a", "--", mp])).stdout.trim()) : NOT_MOUNTED;
  return s;
}

async function preflight(host: Host, spec: ZfsDatasetSpec): Promise<Problem[]> {
  const info = await detectZfs(host);
  return unmet(info, host.label, datasetRequirements(spec));
}

export const kind: HostKind<ZfsDatasetSpec, ZfsDatasetState> = {
  name: "ZfsDataset",
  version: 1,
  validate: (spec) => validateDatasetSpec(spec),
  preflight,
  render,
  probe,
  compare(desired, observed) {
    const out: string[] = [];
    out.push(...driftedProperties(desired.properties, observed.properties));
    if (desired.acl && !sameJson(desired.acl, observed.acl)) out.push("acl");
    if (desired.mode !== undefined && desired.mode !== observed.mode) out.push("mode");
    return out;
  },
  project(spec, observed) {
    const properties = projectProperties(spec.properties ?? {}, observed.properties, (k, v, seen) => normalizeValue(k, v as string) === seen);
    const p: ZfsDatasetSpec = { ...spec, properties };
    if (spec.acl && observed.acl) p.acl = spec.acl.map((e, i) => (normalizeAclEntry(e) === observed.acl![i] ? e : observed.acl![i]));
    if (spec.mode !== undefined && observed.mode !== undefined && modeOf(spec.mode) !== observed.mode) p.mode = observed.mode;
    return p;
  },
  outputs: (spec, observed) => ({
    name: spec.name,
    guid: observed?.guid ?? null,
    mountpoint: observed?.mountpoint ?? null,
    usedBytes: observed?.usedBytes ?? null,
    availableBytes: observed?.availableBytes ?? null,
  }),
  replaceOn: ["name"],
  async apply(host, { spec, desired, live, previous, log }) {
    if (!live) {
      const pool = spec.name.split("/")[0];
      if ((await host.run(["zpool", "list", "-H", "-o", "name", pool], { check: false })).code !== 0) {
        throw new Error(`name: pool '${pool}' does not exist on ${host.label}; declare a ZfsPool first and pass it as a dependency (dependsOn)`);
      }
      const argv = ["zfs", "create", "-p"];
      for (const [k, v] of Object.entries(spec.properties ?? {})) if (v !== undefined) argv.push("-o", `${k}=${v}`);
      await runZfs(host, [...argv, spec.name]);
      log(`created dataset ${spec.name} on ${host.label}`);
    } else {
      for (const [k, v] of Object.entries(spec.properties ?? {})) {
        if (v === undefined || live.properties[k] === desired.properties[k]) continue;
        await runZfs(host, ["zfs", "set", `${k}=${v}`, spec.name]);
        log(`set ${k}=${v} on ${spec.name} (was ${live.properties[k] ?? "unset"})`);
      }
    }
    for (const k of Object.keys(previous?.spec.properties ?? {})) {
      if (spec.properties && k in spec.properties) continue;
      // Properties ZFS cannot `inherit` are set to the value that means "unset" (the rule's `uninherited`).
      const unset = propertyRule(k)?.uninherited;
      if (unset !== undefined) await runZfs(host, ["zfs", "set", `${k}=${unset}`, spec.name]);
      else await runZfs(host, ["zfs", "inherit", k, spec.name]);
      log(`${k} left the program: ${unset !== undefined ? `set to ${unset}` : "inherited"} on ${spec.name}`);
    }
    if (spec.acl?.length || spec.mode !== undefined) {
      const now = await probe(host, spec);
      if (spec.acl?.length && !sameJson(now?.acl, desired.acl)) {
        if (!now?.mountpoint?.startsWith("/")) throw new Error(`acl: ${spec.name} has no mount point (${now?.mountpoint}); ACL entries need a mounted file system`);
        await applyAcl(host, now.mountpoint, spec.acl);
        log(`set ACL entries on ${now.mountpoint}`);
      }
      if (desired.mode !== undefined && now?.mode !== desired.mode) {
        if (now?.mode === NOT_MOUNTED || !now?.mountpoint?.startsWith("/")) {
          throw new Error(`mode: ${spec.name} is not mounted (mountpoint ${now?.mountpoint}); the mode of its root directory needs a mounted file system: mount it, or drop mode`);
        }
        // 5 digits: GNU chmod keeps a directory's setgid/setuid bits unless the mode names them explicitly.
        await host.run(["chmod", `0${desired.mode}`, "--", now.mountpoint]);
        log(`set mode ${desired.mode} on ${now.mountpoint} (was ${now.mode})`);
      }
    }
  },
  async remove(host, spec, _observed, log) {
    const got = await zfsGet(host, [spec.name], ["type"]);
    if (!got.has(spec.name)) return;
    if (spec.allowDestroy !== true) {
      log(`left dataset ${spec.name} on ${host.label} in place with its data (set allowDestroy: true to destroy it)`);
      return;
    }
    const children = (await host.run(["zfs", "list", "-H", "-o", "name", "-r", "-t", "filesystem", spec.name])).stdout.split("\n").filter((n) => n && n !== spec.name);
    if (children.length) {
      throw new Error(`${spec.name} on ${host.label} has child datasets (${children.join(", ")}); kvmshare destroys one dataset at a time: remove those first`);
    }
    await runZfs(host, ["zfs", "destroy", "-r", spec.name], {}, 10);
    log(`destroyed dataset ${spec.name} and its snapshots on ${host.label} (allowDestroy: true)`);
  },
};
