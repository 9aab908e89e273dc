/**
 * NetworkTuning's arguments, declared once and documented, their defaults (one table per
 * argument object, resolved once into the kinds' full specs) and the pure
 * `validateNetworkTuning` that reports every bad input before anything is created. The tc
 * shaping arguments are in tcShapingArgs.ts (the TcShaping kind's specs derive from them).
 */
import * as pulumi from "@pulumi/pulumi";
import { Defaults, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";
import { bootUnitName, BootUnitInput, renderBootUnit, wantsLink } from "./bootUnit";
import { EthtoolSpec, validateEthtool } from "./ethtoolKind";
import { LinkMtuSpec, validateLinkMtu } from "./linkMtuKind";
import { checkDevice, checkTarget } from "./netHost";
import { CONGESTION_KEY, SysctlProfileSpec, SysctlSetting, validateSysctlProfile } from "./sysctlProfileKind";
import { resolveShaping, ShapingArgs, TBF_DEFAULTS } from "./tcShapingArgs";
import { TcShapingSpec, validateShaping } from "./tcShapingKind";

export type { HtbArgs, HtbClassArgs, ShapingArgs, TbfArgs } from "./tcShapingArgs";

/** Kernel sysctls with typed fields. Persisted in `<dir>/<fileName>.conf` (survives reboot). */
export interface SysctlArgs {
  /**
   * `net.ipv4.tcp_congestion_control`, e.g. `bbr`; checked against `tcp_available_congestion_control`, `tcp_<name>` loaded when needed.
   * @default unset: not managed (the kernel's algorithm stays)
   * @fieldKind name
   */
  tcpCongestionControl?: string;
  /** `net.core.somaxconn`: listen() backlog cap. @default unset: not managed */
  somaxconn?: number;
  /** `net.ipv4.tcp_rmem`: [min, default, max] receive buffer, bytes. @default unset: not managed */
  tcpRmem?: [number, number, number];
  /** `net.ipv4.tcp_wmem`: [min, default, max] send buffer, bytes. @default unset: not managed */
  tcpWmem?: [number, number, number];
  /** `net.core.rmem_max`, bytes. Global: cannot be set inside a network namespace. @default unset: not managed */
  rmemMax?: number;
  /** `net.core.wmem_max`, bytes. Global: cannot be set inside a network namespace. @default unset: not managed */
  wmemMax?: number;
  /** `net.ipv4.tcp_window_scaling`. @default unset: not managed */
  tcpWindowScaling?: boolean;
  /** `net.core.netdev_max_backlog`: packets queued per CPU before the stack drops them. @default unset: not managed */
  netdevMaxBacklog?: number;
  /** Any other keys, e.g. `{ "net.ipv4.tcp_mtu_probing": 1 }`. A key may not repeat a typed field. @default unset: no other key managed @fieldKind free */
  extra?: Record<string, string | number | boolean>;
  /**
   * The sysctl.d directory.
   * @default "/etc/sysctl.d" in the host's namespace; "/etc/kvmshare/sysctl.d" with `netns` (so
   * systemd-sysctl does not load a namespace's values into the host's at boot)
   * @fieldKind path dir
   */
  dir?: string;
  /** File base name (`.conf` is added). @default "90-kvmshare-<component name>" @fieldKind name */
  fileName?: string;
}

/** ethtool settings of `device`. Runtime only (see `bootUnit`). */
export interface EthtoolArgs {
  /**
   * `-K`: offload -> on/off, e.g. `{ tso: true, gro: true, lro: false }` or feature names from `ethtool -k`.
   * @default unset: no offload managed
   * @fieldKind free
   */
  offloads?: Record<string, boolean>;
  /** `-G` ring sizes. @default unset: ring sizes not managed */
  rings?: { rx?: number; tx?: number; rxMini?: number; rxJumbo?: number };
  /** `-L` channel counts. @default unset: channel counts not managed */
  channels?: { rx?: number; tx?: number; other?: number; combined?: number };
  /** `-C` interrupt coalescing. @default unset: coalescing not managed */
  coalesce?: { rxUsecs?: number; txUsecs?: number; rxFrames?: number; txFrames?: number; adaptiveRx?: boolean; adaptiveTx?: boolean };
  /**
   * What the driver cannot do (veth has no `-G`/`-C`; a `[fixed]` offload): `true` fails at
   * preview/apply naming the device and setting; `false` logs it and applies the rest.
   * @default true
   */
  failOnUnsupported?: boolean;
}

/** The systemd unit that re-applies the runtime-only settings at boot. */
export interface BootUnitArgs {
  /** Where the unit goes. @default "/etc/systemd/system" @fieldKind path unitDir */
  dir?: string;
  /** Run `systemctl enable` after writing it. @default true */
  enable?: boolean;
}

export interface NetworkTuningArgs {
  /** The host to tune. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /**
   * The interface `mtu`, `shaping` and `ethtool` apply to (e.g. `br0`, a guest's `vnet3`). Required with any of them.
   * @default unset: only sysctls can be tuned
   * @fieldKind name
   */
  device?: string;
  /** Run every command inside this network namespace (`ip netns exec <netns> ...`). @default unset: the host's namespace @fieldKind name */
  netns?: string;
  /** Kernel sysctls. @default unset: no sysctl managed */
  sysctl?: SysctlArgs;
  /** MTU of `device` (9000 for jumbo frames; checked against the device's max_mtu). Runtime only. @default unset: the MTU is not managed */
  mtu?: number;
  /** Root qdisc of `device`. @default unset: not managed (the kernel's default qdisc stays) */
  shaping?: ShapingArgs;
  /** ethtool settings of `device`. @default unset: not managed */
  ethtool?: EthtoolArgs;
  /** Where the values found before the first apply are kept, for `restoreOnRemove`. @default "/var/lib/kvmshare/network" @fieldKind path dir */
  stateDir?: string;
  /** Put back the values found before the first apply when this is removed. @default true */
  restoreOnRemove?: boolean;
  /** Write a systemd unit that re-applies the runtime-only settings at boot. @default unset: no unit */
  bootUnit?: BootUnitArgs;
}

/** Everything resolved: the kinds' specs and the boot unit's file. */
export interface ResolvedNetworkTuning {
  sysctl?: SysctlProfileSpec;
  mtu?: LinkMtuSpec;
  shaping?: TcShapingSpec;
  ethtool?: EthtoolSpec;
  bootUnit?: { path: string; content: string; enable: boolean; wantsLink: string; unitName: string };
}

/** The optional NetworkTuning fields without a default: unset means "not managed". */
type Unmanaged = "connection" | "device" | "netns" | "sysctl" | "mtu" | "shaping" | "ethtool" | "bootUnit";

/** NetworkTuning's defaults. */
const NETWORK_TUNING_DEFAULTS: Defaults<NetworkTuningArgs, Unmanaged> = { stateDir: "/var/lib/kvmshare/network", restoreOnRemove: true };
/** ethtool's defaults (the setting groups have none: unset is not managed). */
const ETHTOOL_DEFAULTS: Defaults<EthtoolArgs, "offloads" | "rings" | "channels" | "coalesce"> = { failOnUnsupported: true };
/** The boot unit's defaults. */
const BOOT_UNIT_DEFAULTS: Defaults<BootUnitArgs> = { dir: "/etc/systemd/system", enable: true };
/** Where sysctl profiles go (`SysctlArgs.dir`'s default depends on `netns`). */
const SYSCTL_DIRS = {
  /** Loaded by systemd-sysctl at boot. */
  host: "/etc/sysctl.d",
  /** Out of systemd-sysctl's way: a namespace's values must not be loaded into the host's. */
  netns: "/etc/kvmshare/sysctl.d",
} as const;

/** Every NetworkTuning default in one public table, read from the tables above (one value, one place). */
export const NETWORK_DEFAULTS = {
  stateDir: NETWORK_TUNING_DEFAULTS.stateDir,
  sysctlDir: SYSCTL_DIRS.host,
  netnsSysctlDir: SYSCTL_DIRS.netns,
  unitDir: BOOT_UNIT_DEFAULTS.dir,
  latencyMs: TBF_DEFAULTS.latencyMs,
  restoreOnRemove: NETWORK_TUNING_DEFAULTS.restoreOnRemove,
  failOnUnsupported: ETHTOOL_DEFAULTS.failOnUnsupported,
} as const;

const TYPED_SYSCTLS: { field: keyof SysctlArgs; key: string }[] = [
  { field: "tcpCongestionControl", key: CONGESTION_KEY },
  { field: "somaxconn", key: "net.core.somaxconn" },
  { field: "tcpRmem", key: "net.ipv4.tcp_rmem" },
  { field: "tcpWmem", key: "net.ipv4.tcp_wmem" },
  { field: "rmemMax", key: "net.core.rmem_max" },
  { field: "wmemMax", key: "net.core.wmem_max" },
  { field: "tcpWindowScaling", key: "net.ipv4.tcp_window_scaling" },
  { field: "netdevMaxBacklog", key: "net.core.netdev_max_backlog" },
];

const RING_KEYS: Record<string, string> = { rx: "rx", tx: "tx", rxMini: "rx-mini", rxJumbo: "rx-jumbo" };
const CHANNEL_KEYS: Record<string, string> = { rx: "rx", tx: "tx", other: "other", combined: "combined" };
const COALESCE_KEYS: Record<string, string> = {
  rxUsecs: "rx-usecs", txUsecs: "tx-usecs", rxFrames: "rx-frames", txFrames: "tx-frames", adaptiveRx: "adaptive-rx", adaptiveTx: "adaptive-tx",
};

function sysctlValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(" ");
  if (typeof v === "boolean") return v ? "1" : "0";
  return String(v);
}

function sysctlSettings(s: SysctlArgs): SysctlSetting[] {
  const out: SysctlSetting[] = [];
  for (const t of TYPED_SYSCTLS) {
    const v = s[t.field];
    if (v !== undefined) out.push({ key: t.key, value: sysctlValue(v), field: `sysctl.${t.field}` });
  }
  for (const [k, v] of Object.entries(s.extra ?? {})) out.push({ key: k, value: sysctlValue(v), field: `sysctl.extra["${k}"]` });
  return out;
}

function renameKeys(obj: Record<string, unknown> | undefined, names: Record<string, string>, group: string, c: Checker): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (v === undefined) continue;
    if (!names[k]) {
      c.add(`ethtool.${group}.${k}`, v, `is not a known field; use ${Object.keys(names).join(", ")}`);
      continue;
    }
    out[names[k]] = typeof v === "boolean" ? (v ? 1 : 0) : (v as number);
  }
  return out;
}

/**
 * Resolve every default and validate every field. Returns the problems (all of them) and,
 * when there are none, the kinds' specs.
 */
export function resolveNetworkTuning(name: string, args: NetworkTuningArgs): { problems: Problem[]; resolved: ResolvedNetworkTuning } {
  const c = new Checker("NetworkTuning");
  const problems: Problem[] = c.problems;
  const d = resolveDefaults<NetworkTuningArgs, Unmanaged>(args, NETWORK_TUNING_DEFAULTS);
  const base = { netns: d.netns, stateDir: d.stateDir, restoreOnRemove: d.restoreOnRemove };
  checkTarget(c, "", base);
  if (typeof base.restoreOnRemove !== "boolean") c.add("restoreOnRemove", base.restoreOnRemove, "must be true or false");
  const resolved: ResolvedNetworkTuning = {};
  if (args.sysctl === undefined && args.mtu === undefined && args.shaping === undefined && args.ethtool === undefined) {
    c.add("(args)", undefined, "nothing to tune: set at least one of sysctl, mtu, shaping, ethtool");
  }
  const needsDevice = (["mtu", "shaping", "ethtool"] as const).filter((k) => args[k] !== undefined);
  if (needsDevice.length && args.device === undefined) {
    c.add("device", undefined, `is required with ${needsDevice.join(", ")}: name the interface, e.g. 'br0'`);
  } else if (args.device !== undefined) {
    checkDevice(c, "device", args.device);
  }
  const device = args.device ?? "";

  if (args.sysctl !== undefined) {
    const s = args.sysctl;
    if (s.tcpCongestionControl !== undefined && !/^[a-z0-9_]{1,15}$/.test(String(s.tcpCongestionControl))) {
      c.add("sysctl.tcpCongestionControl", s.tcpCongestionControl, "must be an algorithm name like 'bbr' or 'cubic'");
    }
    for (const f of ["somaxconn", "rmemMax", "wmemMax", "netdevMaxBacklog"] as const) c.int(`sysctl.${f}`, s[f], 1, 2 ** 31 - 1);
    for (const f of ["tcpRmem", "tcpWmem"] as const) {
      const v = s[f];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1) || v[0] > v[1] || v[1] > v[2]) {
        c.add(`sysctl.${f}`, v, "must be [min, default, max] bytes with min <= default <= max, e.g. [4096, 131072, 33554432]");
      }
    }
    if (s.tcpWindowScaling !== undefined && typeof s.tcpWindowScaling !== "boolean") c.add("sysctl.tcpWindowScaling", s.tcpWindowScaling, "must be true or false");
    const typedKeys = new Set(TYPED_SYSCTLS.map((t) => t.key));
    for (const k of Object.keys(s.extra ?? {})) {
      if (typedKeys.has(k)) {
        const t = TYPED_SYSCTLS.find((x) => x.key === k)!;
        c.add(`sysctl.extra["${k}"]`, k, `is the typed field sysctl.${t.field}; set it there instead`);
      }
    }
    const spec: SysctlProfileSpec = {
      ...base,
      name: s.fileName ?? `90-kvmshare-${name}`,
      dir: s.dir ?? (args.netns ? SYSCTL_DIRS.netns : SYSCTL_DIRS.host),
      settings: sysctlSettings(s).filter((x) => !(x.field?.startsWith("sysctl.extra") && typedKeys.has(x.key))),
    };
    problems.push(...validateSysctlProfile(spec).map((p) => (p.field === "name" ? { ...p, field: "sysctl.fileName" } : p.field === "dir" ? { ...p, field: "sysctl.dir" } : p)).filter((p) => !["netns", "stateDir"].includes(p.field)));
    resolved.sysctl = spec;
  }
  if (args.mtu !== undefined) {
    resolved.mtu = { ...base, device, mtu: args.mtu };
    problems.push(...validateLinkMtu(resolved.mtu).filter((p) => p.field === "mtu"));
  }
  if (args.shaping !== undefined) {
    const shaping = resolveShaping(args.shaping);
    resolved.shaping = { ...base, device, shaping };
    problems.push(...(args.shaping && typeof args.shaping === "object" ? validateShaping(shaping) : validateShaping(undefined)));
  }
  if (args.ethtool !== undefined) {
    const e = args.ethtool;
    const spec: EthtoolSpec = {
      ...base,
      device,
      offloads: { ...(e.offloads ?? {}) },
      rings: renameKeys(e.rings, RING_KEYS, "rings", c),
      channels: renameKeys(e.channels, CHANNEL_KEYS, "channels", c),
      coalesce: renameKeys(e.coalesce, COALESCE_KEYS, "coalesce", c),
      failOnUnsupported: e.failOnUnsupported ?? ETHTOOL_DEFAULTS.failOnUnsupported,
    };
    const own = validateEthtool(spec).filter((p) => !["device", "netns", "stateDir"].includes(p.field));
    problems.push(...own.map((p) => ({ ...p, field: `ethtool.${p.field}` })));
    if (![e.offloads, e.rings, e.channels, e.coalesce].some((g) => g && Object.keys(g).length)) {
      c.add("ethtool", e, "sets nothing: give offloads, rings, channels or coalesce");
    }
    resolved.ethtool = spec;
  }
  if (args.bootUnit !== undefined) {
    const unit = resolveDefaults(args.bootUnit, BOOT_UNIT_DEFAULTS);
    const dir = unit.dir;
    c.absPath("bootUnit.dir", dir, "unitDir");
    c.name("name", name, 200);
    const input: BootUnitInput = { name, device: args.device, netns: args.netns, ...resolved };
    if (!resolved.mtu && !resolved.shaping && !resolved.ethtool && !args.netns) {
      c.add("bootUnit", args.bootUnit, "has nothing to re-apply: host sysctls are loaded at boot by systemd-sysctl from sysctl.dir; drop bootUnit");
    }
    if (!problems.length) {
      resolved.bootUnit = {
        path: `${dir.replace(/\/+$/, "")}/${bootUnitName(name)}`,
        unitName: bootUnitName(name),
        content: renderBootUnit(input),
        enable: unit.enable,
        wantsLink: wantsLink(dir, input),
      };
    }
  }
  return { problems, resolved };
}

/** Every problem with `args` (empty when they are valid). */
export function validateNetworkTuning(name: string, args: NetworkTuningArgs): Problem[] {
  return resolveNetworkTuning(name, args).problems;
}
