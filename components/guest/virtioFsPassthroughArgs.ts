/**
 * VirtioFsPassthrough's arguments, declared once (`VirtioFsPassthroughArgs` and the shared
 * filesystem it lists), the kind's spec derived from them, the defaults table, and validation.
 * Pure: runs in the component's constructor and in the provider's `check`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, LINE_BREAKING } from "../../core/validate";
import { Inputs } from "./inputs";

/** One directory of the host shared into the guest. */
export interface SharedFilesystemArgs {
  /** Host directory to share, absolute (e.g. a ZFS dataset's mountpoint). @fieldKind path tree */
  source: string;
  /** Tag the guest mounts (`mount -t virtiofs <tag> /mnt/x`); libvirt's `<target dir>`. 1-36 of `[A-Za-z0-9_.-]`, unique in the domain. @fieldKind name */
  tag: string;
  /** `virtiofs` (fast, needs shared memory) or `9p` (no shared memory, slower). @default "virtiofs" */
  driver?: "virtiofs" | "9p";
  /** Export read-only (`<readonly/>`). 9p only: libvirt 9.0 refuses it for virtiofs (mount it `readOnly` in the guest instead). @default false */
  readOnly?: boolean;
  /** virtiofs: the virtiofsd binary. @default unset: libvirt's choice (the vhost-user descriptor, /usr/lib/qemu/virtiofsd on Debian 12) @fieldKind path read */
  binaryPath?: string;
  /** virtiofs: guest page cache policy (`always`: fastest, host-side changes may show late; `none`: coherent). @default unset: virtiofsd's default */
  cache?: "always" | "none";
  /** virtiofs: extended attributes. @default unset: virtiofsd's default (off) */
  xattr?: boolean;
  /** virtiofs: POSIX locks (`<lock posix>`). @default unset: virtiofsd's default */
  posixLock?: boolean;
  /** virtiofs: flock(2) locks (`<lock flock>`). @default unset: virtiofsd's default */
  flock?: boolean;
  /** virtiofs: virtqueue size (`<driver queue>`, a power of two, 64-1024). @default unset: QEMU's */
  queueSize?: number;
  /** virtiofs: virtiofsd worker threads (`<thread_pool size>`). @default unset: virtiofsd's */
  threadPoolSize?: number;
  /** 9p: how guest users/permissions map to the host (`accessmode`; virtiofs is always `passthrough`). @default "mapped" */
  accessMode?: "passthrough" | "mapped" | "squash";
}


/** One vCPU pinned to host CPUs (`<cputune><vcpupin>`). */
export interface VcpuPin {
  /** vCPU number (0-based). */
  vcpu: number;
  /** Host CPUs, e.g. `2`, `2-3`, `0,2`. @fieldKind free */
  cpuset: string;
}

/** The memory NUMA policy (`<numatune><memory>`). */
export interface NumaTune {
  /** How strictly memory stays on `nodeset`. @default "strict" */
  mode?: "strict" | "preferred" | "interleave" | "restrictive";
  /** Host NUMA nodes, e.g. `0` or `0-1`. @fieldKind free */
  nodeset: string;
}

/** Host directories shared with a libvirt guest, plus optional vCPU/emulator pinning and NUMA policy. */
export interface VirtioFsPassthroughArgs {
  /** The KVM host libvirt runs on (where `virsh` is run). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /**
   * Name of an existing libvirt domain. An Input, so it can come from whatever created the VM
   * (virsh, virt-install, a Terraform-bridged libvirt provider, a command): Pulumi then orders them.
   * @fieldKind name
   */
  domain: pulumi.Input<string>;
  /** libvirt URI (`virsh -c`), e.g. `qemu:///system` or `qemu:///system?socket=/run/x/libvirt-sock`. @default "qemu:///system" @fieldKind free */
  uri?: pulumi.Input<string>;
  /** Host directories to share (virtiofs by default, or 9p); at least one unless only pinning is wanted. @default [] */
  filesystems?: Inputs<SharedFilesystemArgs>[];
  /** Pin vCPUs to host CPUs (`<cputune><vcpupin>`). @default unset: no vCPU pinning is managed */
  vcpuPins?: VcpuPin[];
  /** Pin the emulator threads to host CPUs (`<cputune><emulatorpin>`), e.g. `"0"`. @default unset: not managed @fieldKind free */
  emulatorPin?: string;
  /** Memory NUMA policy (`<numatune><memory>`). @default unset: not managed */
  numaTune?: NumaTune;
}

/** The VirtioFsPassthrough kind's spec: the args without the connection, every Input as its value. */
export type PassthroughSpec = Plain<Omit<VirtioFsPassthroughArgs, "connection" | "filesystems">> & {
  filesystems?: SharedFilesystemArgs[];
};

/** VirtioFsPassthrough's defaults (the `@default`s above). */
export const PASSTHROUGH_DEFAULTS: Defaults<PassthroughSpec, "vcpuPins" | "emulatorPin" | "numaTune"> = {
  uri: "qemu:///system",
  filesystems: [],
};
/** A shared filesystem's defaults; the virtiofs-only fields are left to libvirt/virtiofsd when unset. */
export const SHARED_FILESYSTEM_DEFAULTS: Defaults<
  SharedFilesystemArgs,
  "binaryPath" | "cache" | "xattr" | "posixLock" | "flock" | "queueSize" | "threadPoolSize"
> = { driver: "virtiofs", readOnly: false, accessMode: "mapped" };
/** `numaTune.mode` when unset. */
export const NUMA_MODE_DEFAULT: NonNullable<NumaTune["mode"]> = "strict";

const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/;
/** libvirt cpuset syntax: `0-3,^2,5`. */
const CPUSET = /^\^?\d+(-\d+)?(,\^?\d+(-\d+)?)*$/;
const DOMAIN = /^[^\s/\0][^/\0\n]{0,199}$/;

function known(v: unknown): boolean {
  return v !== undefined && !isUnknown(v);
}

/** Every problem with a passthrough spec (pure; values not known yet are skipped). */
export function validatePassthrough(spec: PassthroughSpec, prefix = ""): Problem[] {
  const c = new Checker("VirtioFsPassthrough");
  const f = (n: string) => `${prefix}${n}`;
  c.required(f("domain"), spec.domain);
  if (known(spec.domain) && (typeof spec.domain !== "string" || !DOMAIN.test(spec.domain) || LINE_BREAKING.test(spec.domain))) {
    c.add(f("domain"), spec.domain, "must be a libvirt domain name (no '/', no line break or other control character, not starting with a space)");
  }
  if (known(spec.uri) && (typeof spec.uri !== "string" || !/^[a-z][a-z0-9+]*:\/\/[^\s]*$/.test(spec.uri))) {
    c.add(f("uri"), spec.uri, "must be a libvirt URI such as qemu:///system or qemu+ssh://root@host/system");
  }
  const fss = spec.filesystems ?? [];
  if (!Array.isArray(fss)) c.add(f("filesystems"), fss, "must be a list");
  const tags = new Map<string, number>();
  (Array.isArray(fss) ? fss : []).forEach((fs, i) => {
    const p = (n: string) => f(`filesystems[${i}].${n}`);
    c.required(p("source"), fs.source).absPath(p("source"), fs.source, "tree");
    c.required(p("tag"), fs.tag);
    if (known(fs.tag)) {
      if (typeof fs.tag !== "string" || !TAG.test(fs.tag)) c.add(p("tag"), fs.tag, "must be 1-36 letters, digits, '_', '.', '-'");
      else if (tags.has(fs.tag)) c.add(p("tag"), fs.tag, `is already used by filesystems[${tags.get(fs.tag)}]: tags must be unique`);
      else tags.set(fs.tag, i);
    }
    c.oneOf(p("driver"), fs.driver, ["virtiofs", "9p"]);
    const driver = fs.driver ?? SHARED_FILESYSTEM_DEFAULTS.driver;
    const vOnly = ["binaryPath", "cache", "xattr", "posixLock", "flock", "queueSize", "threadPoolSize"] as const;
    if (driver === "9p") {
      for (const k of vOnly) if (fs[k] !== undefined) c.add(p(k), fs[k], "only applies to driver 'virtiofs'");
      c.oneOf(p("accessMode"), fs.accessMode, ["passthrough", "mapped", "squash"]);
    } else {
      if (fs.accessMode !== undefined && fs.accessMode !== "passthrough") {
        c.add(p("accessMode"), fs.accessMode, "virtiofs only supports 'passthrough' (use driver '9p' for mapped/squash)");
      }
      if (fs.readOnly === true) {
        c.add(
          p("readOnly"),
          fs.readOnly,
          "libvirt refuses read-only virtiofs ('virtiofs does not yet support read-only mode', libvirt 9.0): use driver '9p' with readOnly, or mount it read-only in the guest (GuestMount readOnly: true)",
        );
      }
      c.absPath(p("binaryPath"), fs.binaryPath, "read");
      if (known(fs.cache) && !["always", "none"].includes(fs.cache as string)) {
        c.add(p("cache"), fs.cache, "must be 'always' or 'none' (libvirt's schema refuses 'auto': leave it unset for virtiofsd's default)");
      }
      c.int(p("queueSize"), fs.queueSize, 64, 1024);
      if (typeof fs.queueSize === "number" && (fs.queueSize & (fs.queueSize - 1)) !== 0) c.add(p("queueSize"), fs.queueSize, "must be a power of two");
      c.int(p("threadPoolSize"), fs.threadPoolSize, 1, 1024);
    }
  });
  const pins = spec.vcpuPins ?? [];
  const seen = new Set<number>();
  (Array.isArray(pins) ? pins : []).forEach((pin, i) => {
    c.int(f(`vcpuPins[${i}].vcpu`), pin.vcpu, 0, 4095);
    if (seen.has(pin.vcpu)) c.add(f(`vcpuPins[${i}].vcpu`), pin.vcpu, "is pinned twice");
    seen.add(pin.vcpu);
    if (known(pin.cpuset) && !CPUSET.test(String(pin.cpuset))) c.add(f(`vcpuPins[${i}].cpuset`), pin.cpuset, "must be a cpuset like 2, 2-3 or 0,2");
  });
  if (known(spec.emulatorPin) && !CPUSET.test(String(spec.emulatorPin))) c.add(f("emulatorPin"), spec.emulatorPin, "must be a cpuset like 0 or 0-1");
  if (spec.numaTune) {
    c.oneOf(f("numaTune.mode"), spec.numaTune.mode, ["strict", "preferred", "interleave", "restrictive"]);
    c.required(f("numaTune.nodeset"), spec.numaTune.nodeset);
    if (known(spec.numaTune.nodeset) && !CPUSET.test(String(spec.numaTune.nodeset))) {
      c.add(f("numaTune.nodeset"), spec.numaTune.nodeset, "must be a node set like 0 or 0-1");
    }
  }
  if (known(spec.filesystems) && !fss.length && !pins.length && spec.emulatorPin === undefined && !spec.numaTune) {
    c.add(f("filesystems"), [], "nothing to do: add a filesystem, vcpuPins, emulatorPin or numaTune");
  }
  return c.problems;
}
