/**
 * Kind: ethtool settings of one interface: offloads (`-K`), rings (`-G`), channels (`-L`),
 * coalescing (`-C`). Every value is read back (`-k/-g/-l/-c`). What the driver cannot do
 * (veth has no `-G`/`-C`; a `[fixed]` offload) is named with the device, and fails the apply
 * before anything changes when `failOnUnsupported` is true, or is logged and left out otherwise.
 * Removing the resource puts back the values found before the first apply.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { Checker } from "../../core/validate";
import { isUnsupported, offloadName, parseChannels, parseCoalesce, parseFeatures, parseRings } from "./ethtoolParse";
import { checkDevice, checkTarget, DeviceTarget, deviceKind, devicePreflight, linkInfo, originalsPath, readOriginals, recordOriginals, runIn, where } from "./netHost";

export type EthtoolGroup = "rings" | "channels" | "coalesce";

export interface EthtoolSpec extends DeviceTarget {
  /** Offload -> on/off; keys are `-K` aliases (tso, gro) or feature names (rx-gro-list). */
  offloads: Record<string, boolean>;
  /** `-G` parameters: rx, rx-mini, rx-jumbo, tx. */
  rings: Record<string, number>;
  /** `-L` parameters: rx, tx, other, combined. */
  channels: Record<string, number>;
  /** `-C` parameters: rx-usecs, tx-usecs, rx-frames, tx-frames, adaptive-rx/adaptive-tx (1/0), ... */
  coalesce: Record<string, number>;
  /** A setting the driver cannot do fails the apply (true) or is logged and skipped (false). */
  failOnUnsupported: boolean;
}

type GroupState = Record<string, number | null> | "unsupported";

export type EthtoolState = {
  /** By `ethtool -k` name; `null`: the device has no such feature. */
  offloads: Record<string, boolean | null>;
  /** Managed offloads the driver marks `[fixed]`. */
  fixed: string[];
  rings: GroupState;
  channels: GroupState;
  coalesce: GroupState;
  /** Desired state only: whether unsupported settings count as drift. */
  failOnUnsupported?: boolean;
};

export const GROUPS: Record<EthtoolGroup, { show: string; set: string; keys: string[] }> = {
  rings: { show: "-g", set: "-G", keys: ["rx", "rx-mini", "rx-jumbo", "tx"] },
  channels: { show: "-l", set: "-L", keys: ["rx", "tx", "other", "combined"] },
  coalesce: {
    show: "-c",
    set: "-C",
    keys: [
      "adaptive-rx", "adaptive-tx", "rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq", "tx-usecs", "tx-frames",
      "tx-usecs-irq", "tx-frames-irq", "stats-block-usecs", "sample-interval", "pkt-rate-low", "pkt-rate-high",
      "rx-usecs-low", "rx-frames-low", "tx-usecs-low", "tx-frames-low", "rx-usecs-high", "rx-frames-high",
      "tx-usecs-high", "tx-frames-high",
    ],
  },
};
const GROUP_NAMES = Object.keys(GROUPS) as EthtoolGroup[];
const ADAPTIVE = new Set(["adaptive-rx", "adaptive-tx"]);

export function validateEthtool(spec: EthtoolSpec, prefix = ""): Problem[] {
  const c = new Checker("EthtoolSettings");
  checkDevice(c, `${prefix}device`, spec.device);
  checkTarget(c, prefix, spec);
  if (typeof spec.failOnUnsupported !== "boolean") c.add(`${prefix}failOnUnsupported`, spec.failOnUnsupported, "must be true or false");
  for (const [k, v] of Object.entries(spec.offloads ?? {})) {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(k)) c.add(`${prefix}offloads`, k, "offload names are ethtool's: tso, gso, gro, lro, sg, rx, tx, rxvlan, txvlan, rxhash, ntuple or a feature name from 'ethtool -k'");
    if (typeof v !== "boolean") c.add(`${prefix}offloads.${k}`, v, "must be true (on) or false (off)");
  }
  for (const g of GROUP_NAMES) {
    for (const [k, v] of Object.entries(spec[g] ?? {})) {
      if (!GROUPS[g].keys.includes(k)) c.add(`${prefix}${g}.${k}`, v, `is not an 'ethtool ${GROUPS[g].set}' parameter; use ${GROUPS[g].keys.slice(0, 8).join(", ")}${GROUPS[g].keys.length > 8 ? ", ..." : ""}`);
      else if (ADAPTIVE.has(k)) c.int(`${prefix}${g}.${k}`, v, 0, 1, "1 = on, 0 = off");
      else c.int(`${prefix}${g}.${k}`, v, 0, 1 << 30);
    }
  }
  return c.problems;
}

async function probeGroup(host: Host, spec: EthtoolSpec, g: EthtoolGroup): Promise<{ state: GroupState; max: Record<string, number> }> {
  const want = Object.keys(spec[g]);
  if (!want.length) return { state: {}, max: {} };
  const r = await runIn(host, spec.netns, ["ethtool", GROUPS[g].show, spec.device], { check: false });
  if (r.code !== 0) {
    if (isUnsupported(r.stderr)) return { state: "unsupported", max: {} };
    throw new Error(`ethtool ${GROUPS[g].show} ${spec.device} on ${where(host, spec.netns)} failed: ${r.stderr.trim()}`);
  }
  const parsed = g === "coalesce" ? { current: parseCoalesce(r.stdout), max: {} } : g === "rings" ? parseRings(r.stdout) : parseChannels(r.stdout);
  return { state: Object.fromEntries(want.map((k) => [k, parsed.current[k] ?? null])), max: parsed.max };
}

interface Probed {
  state: EthtoolState;
  max: Record<EthtoolGroup, Record<string, number>>;
}

async function probeAll(host: Host, spec: EthtoolSpec): Promise<Probed | undefined> {
  if (!(await linkInfo(host, spec.netns, spec.device))) return undefined;
  const names = Object.keys(spec.offloads).map(offloadName);
  let offloads: Record<string, boolean | null> = {};
  let fixed: string[] = [];
  if (names.length) {
    const k = await runIn(host, spec.netns, ["ethtool", "-k", spec.device]);
    const features = parseFeatures(k.stdout);
    offloads = Object.fromEntries(names.map((n) => [n, features[n] ? features[n].on : null]));
    fixed = names.filter((n) => features[n]?.fixed);
  }
  const [rings, channels, coalesce] = await Promise.all(GROUP_NAMES.map((g) => probeGroup(host, spec, g)));
  return {
    state: { offloads, fixed, rings: rings.state, channels: channels.state, coalesce: coalesce.state },
    max: { rings: rings.max, channels: channels.max, coalesce: coalesce.max },
  };
}

/** Everything in `desired` the device cannot do, as messages naming the device. */
function unsupportedOf(spec: EthtoolSpec, desired: EthtoolState, live: Probed, at: string): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const dev = `${spec.device} (${at})`;
  for (const [n, want] of Object.entries(desired.offloads)) {
    const got = live.state.offloads[n];
    if (got === null) out.push({ field: `offloads.${n}`, message: `${dev} has no offload '${n}' (see 'ethtool -k ${spec.device}')` });
    else if (got !== want && live.state.fixed.includes(n)) {
      out.push({ field: `offloads.${n}`, message: `${n} is fixed ${got ? "on" : "off"} by the driver of ${dev}; it cannot be turned ${want ? "on" : "off"}` });
    }
  }
  for (const g of GROUP_NAMES) {
    const want = desired[g] as Record<string, number>;
    if (!Object.keys(want).length) continue;
    const got = live.state[g];
    if (got === "unsupported") {
      out.push({ field: g, message: `'ethtool ${GROUPS[g].set}' (${g}) is not supported by the driver of ${dev}` });
      continue;
    }
    for (const [k, v] of Object.entries(want)) {
      if (got[k] === null || got[k] === undefined) out.push({ field: `${g}.${k}`, message: `${dev} has no ${g} parameter '${k}' (n/a in 'ethtool ${GROUPS[g].show}')` });
      else if (live.max[g][k] !== undefined && v > live.max[g][k]) {
        out.push({ field: `${g}.${k}`, message: `${v} exceeds the maximum ${live.max[g][k]} of ${dev}` });
      }
    }
  }
  return out;
}

function onOff(v: boolean | number): string {
  return v === true || v === 1 ? "on" : "off";
}

/** The ethtool commands that set what the spec asks for (pure; also used by the boot unit). */
export function ethtoolCommands(spec: Pick<EthtoolSpec, "device" | "offloads" | "rings" | "channels" | "coalesce">): { group: "offloads" | EthtoolGroup; argv: string[] }[] {
  const out: { group: "offloads" | EthtoolGroup; argv: string[] }[] = [];
  const off = Object.entries(spec.offloads);
  if (off.length) out.push({ group: "offloads", argv: ["ethtool", "-K", spec.device, ...off.flatMap(([k, v]) => [offloadName(k), onOff(v)])] });
  for (const g of GROUP_NAMES) {
    const e = Object.entries(spec[g]);
    if (e.length) out.push({ group: g, argv: ["ethtool", GROUPS[g].set, spec.device, ...e.flatMap(([k, v]) => [k, ADAPTIVE.has(k) ? onOff(v) : String(v)])] });
  }
  return out;
}

export const kind: HostKind<EthtoolSpec, EthtoolState> = {
  ...deviceKind("EthtoolSettings", (spec: EthtoolSpec) => validateEthtool(spec)),

  preflight: (host, spec) =>
    devicePreflight(host, spec, () => probeAll(host, spec), (live, at) => {
      if (!spec.failOnUnsupported) return [];
      return unsupportedOf(spec, kind.render(spec, {}), live, at).map((u) => ({
        field: `ethtool.${u.field}`,
        message: `${u.message} (set ethtool.failOnUnsupported: false to skip what the driver cannot do)`,
      }));
    }),

  render: (spec) => ({
    offloads: Object.fromEntries(Object.entries(spec.offloads).map(([k, v]) => [offloadName(k), v])),
    fixed: [],
    rings: { ...spec.rings },
    channels: { ...spec.channels },
    coalesce: { ...spec.coalesce },
    failOnUnsupported: spec.failOnUnsupported,
  }),

  async probe(host, spec) {
    return (await probeAll(host, spec))?.state;
  },

  compare(desired, observed) {
    const strict = desired.failOnUnsupported !== false;
    const out: string[] = [];
    for (const [n, v] of Object.entries(desired.offloads)) {
      const got = observed.offloads[n];
      const cannot = got === null || got === undefined || (observed.fixed.includes(n) && got !== v);
      if (got !== v && (strict || !cannot)) out.push(`offloads.${n}`);
    }
    for (const g of GROUP_NAMES) {
      const want = desired[g] as Record<string, number>;
      if (!Object.keys(want).length) continue;
      const got = observed[g];
      if (got === "unsupported") {
        if (strict) out.push(g);
        continue;
      }
      for (const [k, v] of Object.entries(want)) {
        if (got[k] === null && !strict) continue;
        if (got[k] !== v) out.push(`${g}.${k}`);
      }
    }
    return out;
  },

  project: (spec, observed) => {
    const byName = Object.fromEntries(Object.keys(spec.offloads).map((k) => [k, observed.offloads[offloadName(k)] ?? spec.offloads[k]]));
    const group = (g: EthtoolGroup) => {
      const got = observed[g];
      return (got === "unsupported" ? {} : Object.fromEntries(Object.entries(got).filter(([, v]) => v !== null))) as Record<string, number>;
    };
    return { ...spec, offloads: byName as Record<string, boolean>, rings: group("rings"), channels: group("channels"), coalesce: group("coalesce") };
  },

  async apply(host, { spec, desired, log }) {
    const at = where(host, spec.netns);
    const live = await probeAll(host, spec);
    if (!live) throw new Error(`device: no network interface '${spec.device}' on ${at}`);
    const unsupported = unsupportedOf(spec, desired, live, at);
    if (unsupported.length && spec.failOnUnsupported) {
      throw new Error(
        `ethtool: ${unsupported.length} setting${unsupported.length > 1 ? "s" : ""} not supported on ${spec.device} (${at}); nothing was changed:\n` +
          unsupported.map((u) => `  - ethtool.${u.field}: ${u.message}`).join("\n") +
          "\nRemove them, or set ethtool.failOnUnsupported: false to skip what the driver cannot do.",
      );
    }
    for (const u of unsupported) log(`skipped ethtool.${u.field}: ${u.message}`);
    const skip = new Set(unsupported.map((u) => u.field));

    // What to change: supported, and different from what the device has now.
    const todo: Pick<EthtoolSpec, "device" | "offloads" | "rings" | "channels" | "coalesce"> = { device: spec.device, offloads: {}, rings: {}, channels: {}, coalesce: {} };
    const before: Record<string, number | boolean> = {};
    for (const [n, v] of Object.entries(desired.offloads)) {
      if (skip.has(`offloads.${n}`) || live.state.offloads[n] === v) continue;
      todo.offloads[n] = v as boolean;
      before[`offloads.${n}`] = live.state.offloads[n] as boolean;
    }
    for (const g of GROUP_NAMES) {
      const got = live.state[g];
      if (skip.has(g) || got === "unsupported") continue;
      for (const [k, v] of Object.entries(desired[g] as Record<string, number>)) {
        if (skip.has(`${g}.${k}`) || got[k] === v) continue;
        todo[g][k] = v;
        before[`${g}.${k}`] = got[k] as number;
      }
    }
    await recordOriginals(host, originalsPath(spec.stateDir, "ethtool", spec.netns, spec.device), before);
    const said: string[] = [];
    for (const c of ethtoolCommands(todo)) {
      const r = await runIn(host, spec.netns, c.argv, { check: false });
      if (r.code !== 0 && r.stderr.trim()) said.push(`ethtool ${c.argv[1]}: ${r.stderr.trim().split("\n").join(" / ")}`);
    }
    const after = await probeAll(host, spec);
    const wrong: string[] = [];
    for (const [n, v] of Object.entries(todo.offloads)) {
      if (after?.state.offloads[n] !== v) wrong.push(`offloads.${n}: wanted ${onOff(v)}, got ${after?.state.offloads[n] === null ? "n/a" : onOff(!!after?.state.offloads[n])}`);
    }
    for (const g of GROUP_NAMES) {
      for (const [k, v] of Object.entries(todo[g])) {
        const got = after?.state[g];
        const x = got === "unsupported" || !got ? "unsupported" : got[k];
        if (x !== v) wrong.push(`${g}.${k}: wanted ${v}, got ${x}`);
      }
    }
    if (wrong.length) {
      throw new Error(`ethtool: ${spec.device} on ${at} did not take ${wrong.length} setting${wrong.length > 1 ? "s" : ""}:\n` + [...wrong, ...said].map((w) => `  - ${w}`).join("\n"));
    }
    const changed = Object.keys(before);
    if (changed.length) log(`${spec.device}: set ${changed.join(", ")} on ${at}`);
  },

  async remove(host, spec, _observed, log) {
    const file = originalsPath(spec.stateDir, "ethtool", spec.netns, spec.device);
    const orig = await readOriginals<number | boolean>(host, file);
    if (spec.restoreOnRemove && Object.keys(orig).length && (await linkInfo(host, spec.netns, spec.device))) {
      const back: Pick<EthtoolSpec, "device" | "offloads" | "rings" | "channels" | "coalesce"> = { device: spec.device, offloads: {}, rings: {}, channels: {}, coalesce: {} };
      for (const [key, v] of Object.entries(orig)) {
        const [g, ...rest] = key.split(".");
        const name = rest.join(".");
        if (g === "offloads") back.offloads[name] = v as boolean;
        else if (g in GROUPS) back[g as EthtoolGroup][name] = v as number;
      }
      for (const c of ethtoolCommands(back)) await runIn(host, spec.netns, c.argv, { check: false });
      log(`${spec.device}: restored ${Object.keys(orig).join(", ")} on ${where(host, spec.netns)}`);
    }
    await host.removeFile(file);
  },
};
