/**
 * Which ZFS a host runs, and what it can do. The one place that knows the difference between
 * OpenZFS (what kvmshare targets) and zfs-fuse 0.7 (pool version 23, what some test machines
 * have): every kind asks `detectZfs(host)` and reports the missing features from `preflight`,
 * so `pulumi preview` fails with the field, the value, the host and the fix instead of an apply
 * failing half-way.
 *
 * Detection (measured on zfs-fuse 0.7.0 and OpenZFS 2.1.11):
 * - OpenZFS >= 0.8 answers `zfs version` ("zfs-2.1.11-1\nzfs-kmod-2.1.11-1");
 * - older OpenZFS/ZoL: `modinfo -F version zfs` or /sys/module/zfs/version;
 * - zfs-fuse: `zfs version` is an unknown command and `zpool upgrade -v` says
 *   "running ZFS pool version 23"; it has no feature flags (pool version 5000).
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";

export type ZfsImplementation = "openzfs" | "zfs-fuse" | "none";

/** Everything kvmshare needs to know about a host's ZFS, by capability. */
export interface ZfsFeatures {
  /** `compression=lz4` (pool feature lz4_compress; OpenZFS 0.6.3+). */
  lz4: boolean;
  /** `compression=zstd[-N]` (OpenZFS 2.0+). */
  zstd: boolean;
  /** The `sync` dataset property. */
  syncProperty: boolean;
  /** The largest `recordsize` the host accepts, in bytes (128 KiB without large_blocks). */
  maxRecordsizeBytes: number;
  /** `acltype=posixacl`, so POSIX ACLs (setfacl) work on datasets. */
  posixAcl: boolean;
  /** `xattr=sa`. */
  xattrSa: boolean;
  /** `zfs send -nvP` (size estimate without sending). */
  sendEstimate: boolean;
  /** `zfs receive -s` (resumable receive; OpenZFS 0.7+). */
  resumableReceive: boolean;
  /**
   * A mounted target shows received data at once. zfs-fuse's FUSE mount keeps serving the
   * kernel's cached pages after `zfs receive` (measured: stale file content until a remount).
   */
  coherentReceive: boolean;
  /** The `relatime` property (OpenZFS on Linux). */
  relatime: boolean;
  /** `-p` (exact numbers) on `zfs list` and `zpool list`/`zpool get -Hp`. */
  parsableList: boolean;
  /** The `written` property (bytes changed since the last snapshot). */
  writtenProperty: boolean;
}

export interface ZfsInfo {
  implementation: ZfsImplementation;
  /** e.g. "2.1.11" or "0.7.0"; "" when unknown. */
  version: string;
  /** Highest legacy pool version (5000 = feature flags). */
  poolVersion: number;
  features: ZfsFeatures;
}

type FeatureInfo = { what: string; needs: string };

/** What a dataset may be set to. */
const SETTING_FEATURES = {
  lz4: { what: "compression=lz4", needs: "OpenZFS 0.6.3 or later; on this host use gzip, lzjb or zle" },
  zstd: { what: "compression=zstd", needs: "OpenZFS 2.0 or later; on this host use gzip-N (or lz4 on OpenZFS)" },
  syncProperty: { what: "the sync property", needs: "OpenZFS (zfs-fuse has no sync property); drop 'sync' for this host" },
  maxRecordsizeBytes: { what: "recordsize above 128K", needs: "OpenZFS 0.6.5+ (large_blocks feature); use 128K or less on this host" },
  posixAcl: { what: "POSIX ACLs (acltype=posixacl, setfacl)", needs: "OpenZFS on Linux; zfs-fuse has no acltype and its FUSE mounts refuse setfacl" },
  xattrSa: { what: "xattr=sa", needs: "OpenZFS on Linux; use xattr=on on this host" },
  relatime: { what: "the relatime property", needs: "OpenZFS on Linux; use atime=off on this host" },
} satisfies Partial<Record<keyof ZfsFeatures, FeatureInfo>>;

/** What sending and receiving rely on. */
const STREAM_FEATURES = {
  sendEstimate: { what: "zfs send -nvP (size estimate)", needs: "OpenZFS; kvmshare falls back to a referenced-bytes estimate" },
  resumableReceive: { what: "resumable receive (zfs receive -s)", needs: "OpenZFS 0.7 or later; set resumable: false for this host" },
  coherentReceive: { what: "a mounted target that shows received data at once", needs: "OpenZFS; on zfs-fuse kvmshare remounts the target after each receive" },
} satisfies Partial<Record<keyof ZfsFeatures, FeatureInfo>>;

/** What reading sizes and changes relies on. */
const LISTING_FEATURES = {
  parsableList: { what: "exact numbers (zfs list -p, zpool get -Hp)", needs: "OpenZFS; kvmshare parses rounded sizes instead" },
  writtenProperty: { what: "the written property", needs: "OpenZFS (pool version 5000)" },
} satisfies Partial<Record<keyof ZfsFeatures, FeatureInfo>>;

/** The feature table: what each capability is called, which host lacks it, and the fix. */
export const FEATURE_INFO: Record<keyof ZfsFeatures, FeatureInfo> = { ...SETTING_FEATURES, ...STREAM_FEATURES, ...LISTING_FEATURES };

const OPENZFS: ZfsFeatures = {
  lz4: true,
  zstd: true,
  syncProperty: true,
  maxRecordsizeBytes: 16 * 1024 * 1024,
  posixAcl: true,
  xattrSa: true,
  sendEstimate: true,
  resumableReceive: true,
  coherentReceive: true,
  relatime: true,
  parsableList: true,
  writtenProperty: true,
};

const ZFS_FUSE: ZfsFeatures = {
  lz4: false,
  zstd: false,
  syncProperty: false,
  maxRecordsizeBytes: 128 * 1024,
  posixAcl: false,
  xattrSa: false,
  sendEstimate: false,
  resumableReceive: false,
  coherentReceive: false,
  relatime: false,
  parsableList: false,
  writtenProperty: false,
};

function cmp(a: string, b: string): number {
  const pa = a.split(".").map((x) => parseInt(x, 10) || 0);
  const pb = b.split(".").map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Features of an OpenZFS version (per its release notes). */
export function openZfsFeatures(version: string): ZfsFeatures {
  const at = (v: string) => version === "" || cmp(version, v) >= 0;
  return {
    ...OPENZFS,
    lz4: at("0.6.3"),
    zstd: at("2.0"),
    maxRecordsizeBytes: at("0.6.5") ? OPENZFS.maxRecordsizeBytes : 128 * 1024,
    sendEstimate: at("0.6.4"),
    resumableReceive: at("0.7"),
  };
}

/**
 * Classify a host from the outputs of `zfs version`, `zpool upgrade -v` and the module version.
 * Pure, so every branch is unit-tested with the real outputs.
 */
export function classifyZfs(probe: {
  zfsVersion?: { code: number; stdout: string };
  upgradeV?: { code: number; stdout: string };
  moduleVersion?: string;
  hasZfsFuse?: boolean;
}): ZfsInfo {
  const zv = probe.zfsVersion;
  if (zv && zv.code === 0) {
    const m = /zfs-(?:kmod-)?v?(\d+\.\d+(?:\.\d+)?)/.exec(zv.stdout);
    const version = m ? m[1] : "";
    return { implementation: "openzfs", version, poolVersion: 5000, features: openZfsFeatures(version) };
  }
  const up = probe.upgradeV;
  const pv = up ? /pool version (\d+)/.exec(up.stdout) : null;
  const poolVersion = pv ? parseInt(pv[1], 10) : up && /feature flags/i.test(up.stdout) ? 5000 : 0;
  if (probe.moduleVersion) {
    const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(probe.moduleVersion.trim())?.[1] ?? "";
    return { implementation: "openzfs", version, poolVersion: poolVersion || 5000, features: openZfsFeatures(version) };
  }
  if (poolVersion > 0 && poolVersion < 5000) {
    return { implementation: "zfs-fuse", version: probe.hasZfsFuse ? "0.7.0" : "", poolVersion, features: { ...ZFS_FUSE } };
  }
  if (poolVersion === 5000) {
    return { implementation: "openzfs", version: "", poolVersion, features: openZfsFeatures("") };
  }
  return { implementation: "none", version: "", poolVersion: 0, features: { ...ZFS_FUSE, maxRecordsizeBytes: 0 } };
}

const cache = new Map<string, Promise<ZfsInfo>>();

/** Detect the host's ZFS once per host label and process. */
export function detectZfs(host: Host): Promise<ZfsInfo> {
  let p = cache.get(host.label);
  if (!p) {
    p = (async () => {
      const run = async (argv: string[]) => {
        try {
          return await host.run(argv, { check: false, timeoutMs: 30_000 });
        } catch {
          return { code: 127, stdout: "", stderr: "" };
        }
      };
      const zfsVersion = await run(["zfs", "version"]);
      const upgradeV = zfsVersion.code === 0 ? undefined : await run(["zpool", "upgrade", "-v"]);
      let moduleVersion: string | undefined;
      if (zfsVersion.code !== 0) {
        const mod = await run(["sh", "-c", "cat /sys/module/zfs/version 2>/dev/null || modinfo -F version zfs 2>/dev/null"]);
        moduleVersion = mod.code === 0 && mod.stdout.trim() ? mod.stdout.trim() : undefined;
      }
      const fuse = await run(["sh", "-c", "command -v zfs-fuse"]);
      return classifyZfs({ zfsVersion, upgradeV, moduleVersion, hasZfsFuse: fuse.code === 0 });
    })();
    cache.set(host.label, p);
    p.catch(() => cache.delete(host.label));
  }
  return p;
}

/** Forget detection results (tests that switch hosts). */
export function clearZfsCache(): void {
  cache.clear();
}

export function describeZfs(info: ZfsInfo): string {
  if (info.implementation === "none") return "no ZFS";
  const name = info.implementation === "zfs-fuse" ? "zfs-fuse" : "OpenZFS";
  return `${name}${info.version ? " " + info.version : ""}${info.poolVersion && info.poolVersion < 5000 ? ` (pool version ${info.poolVersion})` : ""}`;
}

/** One thing a spec asks of the host's ZFS: which field, which value, which feature. */
export interface Requirement {
  field: string;
  value: unknown;
  feature: keyof ZfsFeatures;
  /** For numeric features (maxRecordsizeBytes): the amount needed. */
  atLeast?: number;
}

/** The problems for every requirement the host cannot meet, each naming field, value, host and fix. */
export function unmet(info: ZfsInfo, hostLabel: string, reqs: Requirement[]): Problem[] {
  if (info.implementation === "none") {
    return [{ field: "connection", value: hostLabel, message: `has no ZFS (no 'zfs'/'zpool' that answers); install zfsutils-linux (OpenZFS) on ${hostLabel}` }];
  }
  const out: Problem[] = [];
  for (const r of reqs) {
    const have = info.features[r.feature];
    const ok = typeof have === "number" ? have >= (r.atLeast ?? 0) : have;
    if (ok) continue;
    const fi = FEATURE_INFO[r.feature];
    out.push({
      field: r.field,
      value: r.value,
      message: `${describeZfs(info)} on ${hostLabel} does not support ${fi.what}; needs ${fi.needs}`,
    });
  }
  return out;
}
