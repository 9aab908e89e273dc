/**
 * Pure edits of a libvirt domain XML for a passthrough spec: add/replace the `<filesystem>`
 * devices, the shared `<memoryBacking>` virtiofs needs, `<cputune>` pins and `<numatune>`; and
 * the reverse. What kvmshare added is recorded in the domain's own `<metadata>` (a namespaced
 * element libvirt keeps), so removal takes out exactly that and leaves the rest of the VM alone.
 * Also extracts the managed parts of a domain into plain JSON for drift detection.
 */
import { NUMA_MODE_DEFAULT, PassthroughSpec, SHARED_FILESYSTEM_DEFAULTS, SharedFilesystemArgs } from "./virtioFsPassthroughArgs";
import {
  append, attr, buildXml, childrenOf, el, ensure, find, first, parseXml, removeWhere, rootElement, setAttr, tagOf, XNode,
} from "./xmlTree";

export const METADATA_NS = "https://github.com/kvmshare/kvmshare/xmlns/passthrough/1";
const META_TAG = "kvmshare:passthrough";

/** What one shared filesystem looks like in the domain (normalized). */
export type ObservedFilesystem = {
  driver: "virtiofs" | "9p" | string;
  source: string;
  accessMode: string;
  readOnly: boolean;
  binaryPath: string | null;
  cache: string | null;
  xattr: boolean | null;
  posixLock: boolean | null;
  flock: boolean | null;
  queueSize: number | null;
  threadPoolSize: number | null;
};

/** The managed parts of a domain, as plain JSON (desired and observed have this shape). */
export type PassthroughState = {
  filesystems: { [tag: string]: ObservedFilesystem | null };
  memoryBacking?: { source: string | null; access: string | null } | null;
  vcpuPins?: { [vcpu: string]: string | null };
  emulatorPin?: string | null;
  numaTune?: { mode: string; nodeset: string } | null;
  /** Observed only: the domain runs with a configuration older than the persistent one. */
  restartNeeded?: boolean;
};

/** What kvmshare owns in a domain, as recorded in its metadata. */
export interface Ownership {
  tags: string[];
  vcpus: number[];
  emulatorPin: boolean;
  numaTune: boolean;
  /** "created": kvmshare added the element; "amended": it existed, kvmshare set source/access. */
  memoryBacking: "created" | "amended" | "none";
}

const onOff = (v: boolean | undefined) => (v === undefined ? undefined : v ? "on" : "off");
const fromOnOff = (v: string | undefined) => (v === undefined ? null : v === "on");

function filesystemElement(fs: SharedFilesystemArgs): XNode {
  const driver = fs.driver ?? SHARED_FILESYSTEM_DEFAULTS.driver;
  const children: XNode[] = [];
  if (driver === "virtiofs") {
    children.push(el("driver", { type: "virtiofs", queue: fs.queueSize?.toString() }));
    const bin: XNode[] = [];
    if (fs.cache) bin.push(el("cache", { mode: fs.cache }));
    if (fs.posixLock !== undefined || fs.flock !== undefined) bin.push(el("lock", { posix: onOff(fs.posixLock), flock: onOff(fs.flock) }));
    if (fs.threadPoolSize !== undefined) bin.push(el("thread_pool", { size: String(fs.threadPoolSize) }));
    if (fs.binaryPath || fs.xattr !== undefined || bin.length) children.push(el("binary", { path: fs.binaryPath, xattr: onOff(fs.xattr) }, bin));
  } else {
    children.push(el("driver", { type: "path", wrpolicy: "immediate" }));
  }
  children.push(el("source", { dir: fs.source }), el("target", { dir: fs.tag }));
  if (fs.readOnly) children.push(el("readonly"));
  return el("filesystem", { type: "mount", accessmode: driver === "9p" ? fs.accessMode ?? SHARED_FILESYSTEM_DEFAULTS.accessMode : "passthrough" }, children);
}

function normalizeFs(fs: SharedFilesystemArgs): ObservedFilesystem {
  const driver = fs.driver ?? SHARED_FILESYSTEM_DEFAULTS.driver;
  const v = driver === "virtiofs";
  return {
    driver,
    source: fs.source,
    accessMode: v ? "passthrough" : fs.accessMode ?? SHARED_FILESYSTEM_DEFAULTS.accessMode,
    readOnly: fs.readOnly === true,
    binaryPath: v ? fs.binaryPath ?? null : null,
    cache: v ? fs.cache ?? null : null,
    xattr: v ? fs.xattr ?? null : null,
    posixLock: v ? fs.posixLock ?? null : null,
    flock: v ? fs.flock ?? null : null,
    queueSize: v ? fs.queueSize ?? null : null,
    threadPoolSize: v ? fs.threadPoolSize ?? null : null,
  };
}

function readFs(n: XNode): ObservedFilesystem {
  const driverEl = first(n, "driver");
  const driverType = attr(driverEl ?? {}, "type");
  const driver = driverType === "virtiofs" ? "virtiofs" : driverType === "path" || driverType === undefined ? "9p" : driverType;
  const bin = first(n, "binary");
  const lock = first(bin, "lock");
  const num = (s: string | undefined) => (s === undefined ? null : Number(s));
  return {
    driver,
    source: attr(first(n, "source") ?? {}, "dir") ?? "",
    accessMode: attr(n, "accessmode") ?? "passthrough",
    readOnly: !!first(n, "readonly"),
    binaryPath: bin ? attr(bin, "path") ?? null : null,
    cache: attr(first(bin, "cache") ?? {}, "mode") ?? null,
    xattr: fromOnOff(bin ? attr(bin, "xattr") : undefined),
    posixLock: fromOnOff(lock ? attr(lock, "posix") : undefined),
    flock: fromOnOff(lock ? attr(lock, "flock") : undefined),
    queueSize: num(attr(driverEl ?? {}, "queue")),
    threadPoolSize: num(attr(first(bin, "thread_pool") ?? {}, "size")),
  };
}

const usesVirtiofs = (spec: PassthroughSpec) => (spec.filesystems ?? []).some((f) => (f.driver ?? SHARED_FILESYSTEM_DEFAULTS.driver) === "virtiofs");

/** The desired managed state for a spec (pure). */
export function desiredPassthrough(spec: PassthroughSpec): PassthroughState {
  const s: PassthroughState = { filesystems: {} };
  for (const fs of spec.filesystems ?? []) s.filesystems[fs.tag] = normalizeFs(fs);
  if (usesVirtiofs(spec)) s.memoryBacking = { source: "memfd", access: "shared" };
  if (spec.vcpuPins?.length) s.vcpuPins = Object.fromEntries(spec.vcpuPins.map((p) => [String(p.vcpu), p.cpuset]));
  if (spec.emulatorPin !== undefined) s.emulatorPin = spec.emulatorPin;
  if (spec.numaTune) s.numaTune = { mode: spec.numaTune.mode ?? NUMA_MODE_DEFAULT, nodeset: spec.numaTune.nodeset };
  return s;
}

function domainOf(doc: XNode[]): XNode {
  return rootElement(doc, "domain");
}

function filesystems(domain: XNode): XNode[] {
  const devices = first(domain, "devices");
  return devices ? find(devices, "filesystem") : [];
}

const tagOfFs = (n: XNode) => attr(first(n, "target") ?? {}, "dir");

/** The managed parts of a domain XML, for the tags/vcpus the spec names (observed state). */
export function observePassthrough(xml: string, spec: PassthroughSpec): PassthroughState {
  const domain = domainOf(parseXml(xml));
  const s: PassthroughState = { filesystems: {} };
  const byTag = new Map(filesystems(domain).map((n) => [tagOfFs(n), n]));
  for (const fs of spec.filesystems ?? []) {
    const n = byTag.get(fs.tag);
    s.filesystems[fs.tag] = n ? readFs(n) : null;
  }
  if (usesVirtiofs(spec)) {
    const mb = first(domain, "memoryBacking");
    s.memoryBacking = mb ? { source: attr(first(mb, "source") ?? {}, "type") ?? null, access: attr(first(mb, "access") ?? {}, "mode") ?? null } : null;
  }
  const cputune = first(domain, "cputune");
  if (spec.vcpuPins?.length) {
    const pins = new Map((cputune ? find(cputune, "vcpupin") : []).map((p) => [attr(p, "vcpu"), attr(p, "cpuset") ?? null]));
    s.vcpuPins = Object.fromEntries(spec.vcpuPins.map((p) => [String(p.vcpu), pins.get(String(p.vcpu)) ?? null]));
  }
  if (spec.emulatorPin !== undefined) s.emulatorPin = attr(first(cputune, "emulatorpin") ?? {}, "cpuset") ?? null;
  if (spec.numaTune) {
    const mem = first(first(domain, "numatune"), "memory");
    s.numaTune = mem ? { mode: attr(mem, "mode") ?? "strict", nodeset: attr(mem, "nodeset") ?? "" } : null;
  }
  return s;
}

/** The ownership record in a domain's metadata (empty when kvmshare never touched it). */
export function readOwnership(domain: XNode): Ownership {
  const none: Ownership = { tags: [], vcpus: [], emulatorPin: false, numaTune: false, memoryBacking: "none" };
  const meta = first(domain, "metadata");
  const mine = meta ? childrenOf(meta).find((c) => tagOf(c)?.endsWith(":passthrough") && Object.values(c[":@"] ?? {}).includes(METADATA_NS)) : undefined;
  const owned = mine ? childrenOf(mine).find((c) => tagOf(c)?.replace(/^.*:/, "") === "owned") : undefined;
  if (!owned) return none;
  const list = (v: string | undefined) => (v ? v.split(",").filter(Boolean) : []);
  return {
    tags: list(attr(owned, "tags")),
    vcpus: list(attr(owned, "vcpus")).map(Number),
    emulatorPin: attr(owned, "emulatorpin") === "yes",
    numaTune: attr(owned, "numatune") === "yes",
    memoryBacking: (attr(owned, "memoryBacking") as Ownership["memoryBacking"]) ?? "none",
  };
}

function writeOwnership(domain: XNode, o: Ownership): void {
  let meta = first(domain, "metadata");
  if (meta) removeWhere(meta, (c) => !!tagOf(c)?.endsWith(":passthrough") && Object.values(c[":@"] ?? {}).includes(METADATA_NS));
  const empty = !o.tags.length && !o.vcpus.length && !o.emulatorPin && !o.numaTune && o.memoryBacking === "none";
  if (empty) {
    if (meta && !childrenOf(meta).some((c) => tagOf(c))) removeWhere(domain, (c) => tagOf(c) === "metadata");
    return;
  }
  if (!meta) meta = ensure(domain, "metadata");
  append(
    meta,
    el(META_TAG, { "xmlns:kvmshare": METADATA_NS }, [
      el("kvmshare:owned", {
        tags: o.tags.join(","),
        vcpus: o.vcpus.join(","),
        emulatorpin: o.emulatorPin ? "yes" : "no",
        numatune: o.numaTune ? "yes" : "no",
        memoryBacking: o.memoryBacking,
      }),
    ]),
  );
}

/** Drop `<cputune>`/`<numatune>` left without elements. */
function pruneEmpty(domain: XNode): void {
  for (const t of ["cputune", "numatune"]) {
    const n = first(domain, t);
    if (n && !childrenOf(n).some((c) => tagOf(c))) removeWhere(domain, (c) => tagOf(c) === t);
  }
}

/** Take out what `owned` says kvmshare added (and, for re-apply, the tags/vcpus about to be set). */
function strip(domain: XNode, owned: Ownership, alsoTags: string[] = [], alsoVcpus: number[] = [], keepMemoryBacking = false, prune = true): void {
  const tags = new Set([...owned.tags, ...alsoTags]);
  const devices = first(domain, "devices");
  if (devices) removeWhere(devices, (c) => tagOf(c) === "filesystem" && tags.has(tagOfFs(c) ?? ""));
  const cputune = first(domain, "cputune");
  if (cputune) {
    const vcpus = new Set([...owned.vcpus, ...alsoVcpus].map(String));
    removeWhere(cputune, (c) => tagOf(c) === "vcpupin" && vcpus.has(attr(c, "vcpu") ?? ""));
    if (owned.emulatorPin) removeWhere(cputune, (c) => tagOf(c) === "emulatorpin");
  }
  if (owned.numaTune) {
    const nt = first(domain, "numatune");
    if (nt) removeWhere(nt, (c) => tagOf(c) === "memory");
  }
  if (prune) pruneEmpty(domain);
  if (owned.memoryBacking === "created" && !keepMemoryBacking) removeWhere(domain, (c) => tagOf(c) === "memoryBacking");
}

/** The domain XML with the spec applied (pure). Previously owned items are replaced. */
export function applyPassthrough(xml: string, spec: PassthroughSpec): string {
  const doc = parseXml(xml);
  const domain = domainOf(doc);
  const owned = readOwnership(domain);
  const fss = spec.filesystems ?? [];
  const pins = spec.vcpuPins ?? [];
  const wantVirtiofs = usesVirtiofs(spec);
  strip(domain, owned, fss.map((f) => f.tag), pins.map((p) => p.vcpu), wantVirtiofs, false);
  const next: Ownership = { tags: fss.map((f) => f.tag), vcpus: pins.map((p) => p.vcpu), emulatorPin: false, numaTune: false, memoryBacking: "none" };

  if (wantVirtiofs) {
    let mb = first(domain, "memoryBacking");
    if (!mb) {
      mb = el("memoryBacking");
      append(domain, mb);
      next.memoryBacking = "created";
    } else next.memoryBacking = owned.memoryBacking === "created" ? "created" : "amended";
    // vhost-user (virtiofsd) needs guest RAM it can map: shared memfd memory.
    const src = ensure(mb, "source");
    if (attr(src, "type") !== "memfd" && attr(src, "type") !== "file") setAttr(src, "type", "memfd");
    setAttr(ensure(mb, "access"), "mode", "shared");
  }
  if (fss.length) {
    const devices = ensure(domain, "devices");
    for (const fs of fss) append(devices, filesystemElement(fs));
  }
  if (pins.length || spec.emulatorPin !== undefined) {
    const cputune = ensure(domain, "cputune");
    for (const p of pins) append(cputune, el("vcpupin", { vcpu: String(p.vcpu), cpuset: p.cpuset }));
    if (spec.emulatorPin !== undefined) {
      removeWhere(cputune, (c) => tagOf(c) === "emulatorpin");
      append(cputune, el("emulatorpin", { cpuset: spec.emulatorPin }));
      next.emulatorPin = true;
    }
  }
  if (spec.numaTune) {
    const nt = ensure(domain, "numatune");
    removeWhere(nt, (c) => tagOf(c) === "memory");
    append(nt, el("memory", { mode: spec.numaTune.mode ?? NUMA_MODE_DEFAULT, nodeset: spec.numaTune.nodeset }));
    next.numaTune = true;
  }
  pruneEmpty(domain);
  writeOwnership(domain, next);
  return buildXml(doc);
}

/** The domain XML with everything kvmshare added taken out (pure). */
export function removePassthrough(xml: string): string {
  const doc = parseXml(xml);
  const domain = domainOf(doc);
  strip(domain, readOwnership(domain));
  writeOwnership(domain, { tags: [], vcpus: [], emulatorPin: false, numaTune: false, memoryBacking: "none" });
  return buildXml(doc);
}
