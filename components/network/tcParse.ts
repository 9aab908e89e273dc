/**
 * Reading `tc` output back into kvmshare's normalised shaping state. Rates are kept in kbit/s
 * (integers, tc's 1000-based units), bursts in KiB (tc rounds a burst to its time base, so
 * 262144 bytes reads back as 262125), latencies in ms.
 */

export type QdiscState =
  | { kind: "tbf"; handle: string; rateKbit: number; burstKiB: number; latencyMs: number }
  | { kind: "htb"; handle: string; defaultClass: number }
  | { kind: string; handle: string };

export type ClassState = {
  /** Minor number of the class id (tc shows it in hex: id 16 is `1:10`). */
  id: number;
  /** Minor of the parent class; 0 for a class directly under the qdisc. */
  parent: number;
  rateKbit: number;
  ceilKbit: number;
  prio: number;
};

export type FilterState = {
  /** Minor number of the class the traffic goes to. */
  classId: number;
  /** `dst 10.0.0.2/32` or `src 10.0.0.0/24`. */
  match: string;
};

const RATE_UNITS: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** `300Mbit`, `1Gbit`, `1500Kbit`, `64bit` -> kbit/s. */
export function parseRateKbit(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(bit|bps)$/i.exec(text.trim());
  if (!m) return undefined;
  const bits = parseFloat(m[1]) * RATE_UNITS[m[2].toLowerCase()] * (m[3].toLowerCase() === "bps" ? 8 : 1);
  return Math.round(bits / 1000);
}

/** `1:a` -> 10 (the minor, hex); `1:` -> 0. */
export function minorOf(handle: string): number {
  const m = /^[0-9a-f]+:([0-9a-f]*)$/i.exec(handle.trim());
  return m && m[1] ? parseInt(m[1], 16) : 0;
}

interface QdiscJson {
  kind: string;
  handle: string;
  root?: boolean;
  options?: { rate?: number; burst?: number; lat?: number; default?: string | number };
}

/** The root qdisc from `tc -j qdisc show dev X` (`undefined`: none listed). */
export function parseRootQdisc(json: string): QdiscState | undefined {
  const list = JSON.parse(json || "[]") as QdiscJson[];
  const q = list.find((x) => x.root);
  if (!q) return undefined;
  const o = q.options ?? {};
  if (q.kind === "tbf") {
    return {
      kind: "tbf",
      handle: q.handle,
      rateKbit: Math.round(((o.rate ?? 0) * 8) / 1000),
      burstKiB: Math.round((o.burst ?? 0) / 1024),
      latencyMs: Math.round((o.lat ?? 0) / 1000),
    };
  }
  if (q.kind === "htb") {
    const d = o.default ?? 0;
    return { kind: "htb", handle: q.handle, defaultClass: typeof d === "number" ? d : parseInt(String(d).replace(/^0x/i, ""), 16) };
  }
  return { kind: q.kind, handle: q.handle };
}

/**
 * htb classes from `tc -j class show dev X`. iproute2 6.1 prints text even with `-j` for htb
 * classes; newer ones print JSON (rates in bytes/s): both are accepted.
 */
export function parseHtbClasses(out: string): ClassState[] {
  const text = out.trim();
  const classes: ClassState[] = [];
  if (text.startsWith("[")) {
    for (const c of JSON.parse(text) as Record<string, unknown>[]) {
      if (c.class !== "htb") continue;
      const rate = (v: unknown) => (typeof v === "number" ? Math.round((v * 8) / 1000) : parseRateKbit(String(v)) ?? 0);
      classes.push({
        id: minorOf(String(c.handle)),
        parent: c.parent ? minorOf(String(c.parent)) : 0,
        rateKbit: rate(c.rate),
        ceilKbit: rate(c.ceil),
        prio: typeof c.prio === "number" ? c.prio : 0,
      });
    }
  } else {
    const re = /^class htb (\S+) (?:parent (\S+)|root)(?: leaf \S+)?(?: prio (\d+))?(?: quantum \d+)? rate (\S+) ceil (\S+)/;
    for (const line of text.split("\n")) {
      const m = re.exec(line.trim());
      if (!m) continue;
      classes.push({
        id: minorOf(m[1]),
        parent: m[2] ? minorOf(m[2]) : 0,
        rateKbit: parseRateKbit(m[4]) ?? 0,
        ceilKbit: parseRateKbit(m[5]) ?? 0,
        prio: m[3] ? Number(m[3]) : 0,
      });
    }
  }
  return classes.sort((a, b) => a.id - b.id);
}

function hexToIpv4(hex: string): string {
  const n = parseInt(hex, 16) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

function maskBits(hex: string): number {
  let n = parseInt(hex, 16) >>> 0;
  let bits = 0;
  while (n & 0x80000000) {
    bits++;
    n = (n << 1) >>> 0;
  }
  return bits;
}

/** u32 IPv4 address matches from `tc -j filter show dev X` (offset 12 = src, 16 = dst). */
export function parseU32Filters(json: string): FilterState[] {
  const out: FilterState[] = [];
  for (const f of JSON.parse(json || "[]") as { kind?: string; options?: { flowid?: string; match?: { value: string; mask: string; off: number } } }[]) {
    const o = f.options;
    if (f.kind !== "u32" || !o?.flowid || !o.match) continue;
    const dir = o.match.off === 16 ? "dst" : o.match.off === 12 ? "src" : undefined;
    if (!dir) continue;
    const bits = maskBits(o.match.mask);
    const addr = hexToIpv4(o.match.value);
    out.push({ classId: minorOf(o.flowid), match: `${dir} ${addr}/${bits}` });
  }
  return out.sort((a, b) => a.classId - b.classId || a.match.localeCompare(b.match));
}
