/**
 * Kind: the root qdisc of one interface: `tbf` (one rate for everything leaving it) or `htb`
 * (a root rate split into classes, guest traffic sorted into them by IPv4 address with u32
 * filters). Read back with `tc -j qdisc/class/filter show`; removing it deletes the root
 * qdisc, so the kernel puts the device's default qdisc back.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind, sameJson } from "../../core/hostKind";
import { Checker, isCidr } from "../../core/validate";
import { checkDevice, checkTarget, DeviceTarget, deviceKind, devicePreflight, linkInfo, runIn, where } from "./netHost";
import { Shaping } from "./tcShapingArgs";
import { ClassState, FilterState, parseHtbClasses, parseRootQdisc, parseU32Filters, QdiscState } from "./tcParse";

export interface TcShapingSpec extends DeviceTarget {
  shaping: Shaping;
}

export type TcShapingState = {
  /** The root qdisc (`{kind: "noqueue"}` etc. when kvmshare's is not there). */
  qdisc: QdiscState | null;
  classes: ClassState[];
  filters: FilterState[];
};

/** A command of the shaping recipe; `mayFail` ones are clean-ups (`-` in a systemd ExecStart). */
export interface TcCommand {
  argv: string[];
  mayFail?: boolean;
}

const HANDLE = "1:";
/** The root qdiscs kvmshare builds (`Shaping["kind"]`). */
const SHAPING_KINDS: readonly string[] = ["tbf", "htb"] satisfies Shaping["kind"][];
const kbit = (mbit: number) => Math.round(mbit * 1000);
const hex = (id: number) => id.toString(16);

export function validateShaping(shaping: Shaping | undefined, prefix = "shaping."): Problem[] {
  const c = new Checker("TcShaping");
  if (!shaping || typeof shaping !== "object") {
    c.add(prefix.replace(/\.$/, ""), shaping, "must be { kind: 'tbf', rateMbit } or { kind: 'htb', rateMbit, classes }");
    return c.problems;
  }
  const rate = (field: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0.008 || v > 1_000_000 || Math.round(v * 1000) !== v * 1000) {
      c.add(field, v, "must be a rate in Mbit/s from 0.008 to 1000000, at most 3 decimals (e.g. 200 or 1.5)");
    }
  };
  c.oneOf(`${prefix}kind`, shaping.kind, SHAPING_KINDS);
  rate(`${prefix}rateMbit`, shaping.rateMbit);
  if (shaping.kind === "tbf") {
    c.int(`${prefix}burstKiB`, shaping.burstKiB, 2, 1_048_576, "at least rate × 10 ms is safe; e.g. 256 for 200 Mbit/s");
    c.int(`${prefix}latencyMs`, shaping.latencyMs, 1, 10_000);
    if (typeof shaping.rateMbit === "number" && typeof shaping.burstKiB === "number" && shaping.burstKiB * 1024 * 8 < (shaping.rateMbit * 1e6) / 1000) {
      c.add(`${prefix}burstKiB`, shaping.burstKiB, `is smaller than one ms at ${shaping.rateMbit} Mbit/s; tbf could not reach the rate (use at least ${Math.ceil((shaping.rateMbit * 1.25))})`);
    }
  } else if (shaping.kind === "htb") {
    if (!Array.isArray(shaping.classes) || !shaping.classes.length) {
      c.add(`${prefix}classes`, shaping.classes, "must list at least one class, e.g. [{ id: 10, rateMbit: 500 }]");
      return c.problems;
    }
    const ids = new Set<number>();
    let sum = 0;
    shaping.classes.forEach((k, i) => {
      const f = `${prefix}classes[${i}].`;
      c.int(`${f}id`, k.id, 2, 0xffff, "1 is the root class kvmshare creates");
      if (ids.has(k.id)) c.add(`${f}id`, k.id, "is used by two classes");
      ids.add(k.id);
      rate(`${f}rateMbit`, k.rateMbit);
      rate(`${f}ceilMbit`, k.ceilMbit);
      c.int(`${f}prio`, k.prio, 0, 7);
      if (typeof k.rateMbit === "number") sum += k.rateMbit;
      if (k.ceilMbit < k.rateMbit) c.add(`${f}ceilMbit`, k.ceilMbit, `must be at least the class rate (${k.rateMbit})`);
      if (k.ceilMbit > shaping.rateMbit) c.add(`${f}ceilMbit`, k.ceilMbit, `must not exceed the root rate (${shaping.rateMbit})`);
      for (const dir of ["matchDst", "matchSrc"] as const) {
        const list = k[dir];
        if (!Array.isArray(list)) c.add(`${f}${dir}`, list, "must be a list of IPv4 addresses or CIDRs");
        else list.forEach((a, j) => {
          const v4 = typeof a === "string" && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(a) && (a.includes("/") ? isCidr(a) : isCidr(`${a}/32`));
          if (!v4) c.add(`${f}${dir}[${j}]`, a, "must be an IPv4 address or CIDR like 192.168.122.10 or 192.168.122.0/24");
        });
      }
    });
    if (sum > shaping.rateMbit + 1e-9) {
      c.add(`${prefix}classes`, sum, `guaranteed rates add up to more than the root rate (${shaping.rateMbit} Mbit/s); lower them or raise rateMbit`);
    }
    if (!ids.has(shaping.defaultClass)) c.add(`${prefix}defaultClass`, shaping.defaultClass, `must be one of the class ids (${[...ids].join(", ")})`);
  }
  return c.problems;
}

export function validateTcShaping(spec: TcShapingSpec, prefix = ""): Problem[] {
  const c = new Checker("TcShaping");
  checkDevice(c, `${prefix}device`, spec.device);
  checkTarget(c, prefix, spec);
  return [...c.problems, ...validateShaping(spec.shaping, `${prefix}shaping.`)];
}

function normCidr(a: string): string {
  return a.includes("/") ? a : `${a}/32`;
}

/** The tc commands that set `shaping` up on `device` (pure; also used by the boot unit). */
export function tcCommands(device: string, shaping: Shaping): TcCommand[] {
  const tc = (...a: string[]) => ["tc", ...a];
  if (shaping.kind === "tbf") {
    return [
      {
        argv: tc("qdisc", "replace", "dev", device, "root", "handle", HANDLE, "tbf",
          "rate", `${kbit(shaping.rateMbit)}kbit`, "burst", String(shaping.burstKiB * 1024), "latency", `${shaping.latencyMs}ms`),
      },
    ];
  }
  // htb's quantum: rate/r2q bytes, kept inside the 1 500 - 200 000 range tc likes (no warnings).
  const quantum = (mbit: number) => String(Math.min(200_000, Math.max(1600, Math.round((mbit * 1e6) / 8 / 10))));
  // Bursts of ~10 ms at the ceiling: tc's own default on a high-resolution timer is about one
  // packet, which loses tokens whenever the sender is descheduled for a moment.
  const burst = (mbit: number) => String(Math.max(1600, Math.round((mbit * 1e6) / 8 / 100)));
  const cmds: TcCommand[] = [
    { argv: tc("qdisc", "del", "dev", device, "root"), mayFail: true },
    { argv: tc("qdisc", "add", "dev", device, "root", "handle", HANDLE, "htb", "default", hex(shaping.defaultClass)) },
    {
      argv: tc("class", "add", "dev", device, "parent", HANDLE, "classid", "1:1", "htb",
        "rate", `${kbit(shaping.rateMbit)}kbit`, "ceil", `${kbit(shaping.rateMbit)}kbit`,
        "burst", burst(shaping.rateMbit), "cburst", burst(shaping.rateMbit), "quantum", quantum(shaping.rateMbit)),
    },
  ];
  for (const k of [...shaping.classes].sort((a, b) => a.id - b.id)) {
    cmds.push({
      argv: tc("class", "add", "dev", device, "parent", "1:1", "classid", `1:${hex(k.id)}`, "htb",
        "rate", `${kbit(k.rateMbit)}kbit`, "ceil", `${kbit(k.ceilMbit)}kbit`, "burst", burst(k.ceilMbit), "cburst", burst(k.ceilMbit),
        "prio", String(k.prio), "quantum", quantum(k.rateMbit)),
    });
  }
  for (const k of [...shaping.classes].sort((a, b) => a.id - b.id)) {
    for (const [dir, list] of [["dst", k.matchDst], ["src", k.matchSrc]] as const) {
      for (const a of list) {
        cmds.push({
          argv: tc("filter", "add", "dev", device, "parent", HANDLE, "protocol", "ip", "prio", "1", "u32",
            "match", "ip", dir, normCidr(a), "flowid", `1:${hex(k.id)}`),
        });
      }
    }
  }
  return cmds;
}

export function renderShaping(shaping: Shaping): TcShapingState {
  if (shaping.kind === "tbf") {
    return {
      qdisc: { kind: "tbf", handle: HANDLE, rateKbit: kbit(shaping.rateMbit), burstKiB: shaping.burstKiB, latencyMs: shaping.latencyMs },
      classes: [],
      filters: [],
    };
  }
  const classes: ClassState[] = [
    { id: 1, parent: 0, rateKbit: kbit(shaping.rateMbit), ceilKbit: kbit(shaping.rateMbit), prio: 0 },
    ...shaping.classes.map((k) => ({ id: k.id, parent: 1, rateKbit: kbit(k.rateMbit), ceilKbit: kbit(k.ceilMbit), prio: k.prio })),
  ].sort((a, b) => a.id - b.id);
  const filters: FilterState[] = shaping.classes
    .flatMap((k) => [...k.matchDst.map((a) => ({ classId: k.id, match: `dst ${normCidr(a)}` })), ...k.matchSrc.map((a) => ({ classId: k.id, match: `src ${normCidr(a)}` }))])
    .sort((a, b) => a.classId - b.classId || a.match.localeCompare(b.match));
  return { qdisc: { kind: "htb", handle: HANDLE, defaultClass: shaping.defaultClass }, classes, filters };
}

async function probeTc(host: Host, netns: string | undefined, device: string): Promise<TcShapingState | undefined> {
  const q = await runIn(host, netns, ["tc", "-j", "qdisc", "show", "dev", device], { check: false });
  if (q.code !== 0) {
    if (/Cannot find device|does not exist/i.test(q.stderr)) return undefined;
    throw new Error(`tc qdisc show dev ${device} on ${where(host, netns)} failed: ${q.stderr.trim()}`);
  }
  const qdisc = parseRootQdisc(q.stdout) ?? null;
  if (qdisc?.kind !== "htb") return { qdisc, classes: [], filters: [] };
  const cl = await runIn(host, netns, ["tc", "-j", "class", "show", "dev", device]);
  const fl = await runIn(host, netns, ["tc", "-j", "filter", "show", "dev", device, "parent", qdisc.handle]);
  return { qdisc, classes: parseHtbClasses(cl.stdout), filters: parseU32Filters(fl.stdout) };
}

function same(a: unknown, b: unknown): boolean {
  return sameJson(a, b);
}

export const kind: HostKind<TcShapingSpec, TcShapingState> = {
  ...deviceKind("TcShaping", (spec: TcShapingSpec) => validateTcShaping(spec)),

  preflight: (host, spec) => devicePreflight(host, spec, () => linkInfo(host, spec.netns, spec.device)),

  render: (spec) => renderShaping(spec.shaping),
  probe: (host, spec) => probeTc(host, spec.netns, spec.device),

  project(spec, observed) {
    const q = observed.qdisc;
    if (q && q.kind === "tbf" && "rateKbit" in q) {
      return { ...spec, shaping: { kind: "tbf", rateMbit: q.rateKbit / 1000, burstKiB: q.burstKiB, latencyMs: q.latencyMs } };
    }
    if (q && q.kind === "htb") {
      const root = observed.classes.find((k) => k.id === 1);
      return {
        ...spec,
        shaping: {
          kind: "htb",
          rateMbit: (root?.rateKbit ?? 0) / 1000,
          defaultClass: "defaultClass" in q ? q.defaultClass : 0,
          classes: observed.classes.filter((k) => k.id !== 1).map((k) => ({
            id: k.id,
            rateMbit: k.rateKbit / 1000,
            ceilMbit: k.ceilKbit / 1000,
            prio: k.prio,
            matchDst: observed.filters.filter((f) => f.classId === k.id && f.match.startsWith("dst ")).map((f) => f.match.slice(4)),
            matchSrc: observed.filters.filter((f) => f.classId === k.id && f.match.startsWith("src ")).map((f) => f.match.slice(4)),
          })),
        },
      };
    }
    // Not shaped any more: show the qdisc the device has instead.
    return { ...spec, shaping: { kind: (q?.kind ?? "none") as "tbf" } as Shaping };
  },

  outputs: (_spec, observed) => ({ qdisc: observed?.qdisc?.kind ?? null }),

  async apply(host, { spec, desired, live, log }) {
    const at = where(host, spec.netns);
    if (live === undefined) throw new Error(`device: no network interface '${spec.device}' on ${at}`);
    if (!same(live, desired)) {
      for (const c of tcCommands(spec.device, spec.shaping)) {
        await runIn(host, spec.netns, c.argv, { check: !c.mayFail });
      }
      log(`${spec.device}: root qdisc ${spec.shaping.kind} at ${spec.shaping.rateMbit} Mbit/s on ${at}`);
    }
    const after = await probeTc(host, spec.netns, spec.device);
    const bad = (["qdisc", "classes", "filters"] as const).filter((k) => !same(after?.[k], desired[k]));
    if (bad.length) {
      throw new Error(
        `shaping: ${spec.device} on ${at} does not read back as applied (${bad.join(", ")}):\n` +
          bad.map((k) => `  - ${k}: wanted ${JSON.stringify(desired[k])}, got ${JSON.stringify(after?.[k])}`).join("\n"),
      );
    }
  },

  async remove(host, spec, _observed, log) {
    const live = await probeTc(host, spec.netns, spec.device);
    if (!live?.qdisc || live.qdisc.handle !== HANDLE || !SHAPING_KINDS.includes(live.qdisc.kind)) return;
    await runIn(host, spec.netns, ["tc", "qdisc", "del", "dev", spec.device, "root"]);
    const back = await probeTc(host, spec.netns, spec.device);
    log(`${spec.device}: root qdisc removed, default '${back?.qdisc?.kind ?? "?"}' back on ${where(host, spec.netns)}`);
  },
};
