/**
 * Read-back: turn `nft -j list table <family> <name>` into the canonical form `ruleset.ts`
 * produces (chain headers + rule statements as nft prints them), dropping what changes on its
 * own (handles, counter values). An expression this module does not know is kept as its JSON,
 * so a rule someone added by hand still shows up as drift rather than vanishing.
 */
import { Chains, MARKER, portSetText } from "./ruleset";

type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface NormalizedTable {
  chains: Chains;
  /** Objects in the table other than chains and rules (sets, maps, counters...), e.g. `set allow4`. */
  other: string[];
}

const IFNAME_KEYS = new Set(["iifname", "oifname", "iif", "oif"]);

function leftText(left: J): string {
  if (left && typeof left === "object") {
    if (left.payload) return `${left.payload.protocol} ${left.payload.field}`;
    if (left.meta) return IFNAME_KEYS.has(left.meta.key) ? left.meta.key : `meta ${left.meta.key}`;
    if (left.ct) return `ct ${left.ct.key}`;
  }
  return JSON.stringify(left);
}

function isPortLike(v: J): boolean {
  return typeof v === "number" || (!!v && typeof v === "object" && Array.isArray(v.range) && v.range.every((x: J) => typeof x === "number"));
}

function scalarText(v: J, quoted: boolean): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return quoted ? `"${v}"` : v;
  if (v && typeof v === "object") {
    if (v.prefix) return `${v.prefix.addr}/${v.prefix.len}`;
    if (Array.isArray(v.range)) return `${scalarText(v.range[0], quoted)}-${scalarText(v.range[1], quoted)}`;
  }
  return JSON.stringify(v);
}

function rightText(right: J, quoted: boolean): string {
  const elems: J[] | undefined = right && typeof right === "object" && Array.isArray(right.set) ? right.set : undefined;
  const items = elems ?? [right];
  if (items.every(isPortLike)) {
    return portSetText(items.map((e: J) => (typeof e === "number" ? [e, e] : [e.range[0], e.range[1]]) as [number, number]));
  }
  if (!elems) return scalarText(right, quoted);
  const texts = elems.map((e) => scalarText(e, quoted)).sort();
  return texts.length === 1 ? texts[0] : `{ ${texts.join(", ")} }`;
}

/** One expression of a rule as nft prints it. */
export function exprText(e: J): string {
  const [k] = Object.keys(e ?? {});
  const v = e?.[k];
  switch (k) {
    case "match": {
      const left = leftText(v.left);
      const quoted = !!v.left?.meta && IFNAME_KEYS.has(v.left.meta.key);
      const op = v.op === "==" || v.op === "in" ? "" : `${v.op} `;
      return `${left} ${op}${rightText(v.right, quoted)}`;
    }
    case "counter":
      return "counter";
    case "accept":
    case "drop":
    case "continue":
    case "return":
      return k;
    case "jump":
    case "goto":
      return `${k} ${v.target}`;
    case "reject":
      if (!v || (v.type === "icmpx" && v.expr === "port-unreachable")) return "reject";
      return v.expr ? `reject with ${v.type} ${v.expr}` : `reject with ${v.type}`;
    case "limit": {
      const unit = v.rate_unit && v.rate_unit !== "packets" ? ` ${v.rate_unit}` : "";
      const burstUnit = v.burst_unit && v.burst_unit !== "packets" ? ` ${v.burst_unit}` : " packets";
      return `limit rate ${v.inv ? "over " : ""}${v.rate}${unit}/${v.per}${v.burst ? ` burst ${v.burst}${burstUnit}` : ""}`;
    }
    case "log": {
      const parts = ["log"];
      if (v?.prefix !== undefined) parts.push(`prefix "${v.prefix}"`);
      if (v?.level !== undefined) parts.push(`level ${v.level}`);
      if (v?.group !== undefined) parts.push(`group ${v.group}`);
      return parts.join(" ");
    }
    default:
      return JSON.stringify(e);
  }
}

/** One rule as nft prints it, without handle and counter values. */
export function ruleText(rule: J): string {
  const parts = (rule.expr ?? []).map(exprText);
  if (rule.comment !== undefined) parts.push(`comment "${rule.comment}"`);
  return parts.join(" ");
}

/** The canonical form of the table `family name` inside an `nft -j` document. */
export function normalizeTable(doc: J, family: string, name: string): NormalizedTable {
  const chains: Chains = {};
  const other: string[] = [];
  const items: J[] = Array.isArray(doc?.nftables) ? doc.nftables : [];
  const mine = (o: J) => o && o.family === family && (o.table ?? o.name) === name;
  for (const item of items) {
    const [k] = Object.keys(item);
    const o = item[k];
    if (k === "metainfo" || k === "table") continue;
    if (k === "chain" && mine(o)) {
      chains[o.name] = {
        base: o.hook ? `type ${o.type} hook ${o.hook} priority ${o.prio}; policy ${o.policy ?? "accept"};` : null,
        rules: chains[o.name]?.rules ?? [],
      };
    } else if (k === "rule" && mine(o)) {
      (chains[o.chain] ??= { base: null, rules: [] }).rules.push(ruleText(o));
    } else if (mine(o)) {
      other.push(`${k} ${o.name ?? JSON.stringify(o)}`);
    }
  }
  return { chains, other: other.sort() };
}

/**
 * The owner recorded in kvmshare's marker (a rule commented `kvmshare` or `kvmshare:<owner>`):
 * `""` for an anonymous kvmshare table, `undefined` when no rule carries the marker.
 */
export function ownerOf(chains: Chains | null | undefined): string | undefined {
  for (const c of Object.values(chains ?? {})) {
    for (const r of c.rules) {
      const m = new RegExp(`comment "${MARKER}(?::([^"]*))?"$`).exec(r);
      if (m) return m[1] ?? "";
    }
  }
  return undefined;
}

/** The ports a kvmshare table sends to its allow-list, per protocol (parsed from its `input` chain). */
export function protectedPortsOf(chains: Chains | null | undefined): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const r of chains?.input?.rules ?? []) {
    const m = /^(tcp|udp) dport (\{ [^}]* \}|\S+) jump /.exec(r);
    if (!m) continue;
    for (const item of m[2].replace(/[{}]/g, "").split(",").map((x) => x.trim()).filter(Boolean)) {
      const [a, b] = item.split("-").map(Number);
      (out[m[1]] ??= []).push([a, b ?? a]);
    }
  }
  return out;
}

/** The kvmshare tables (owner and protected ports) in an `nft -j list ruleset` document, by `family name`. */
export function kvmshareTables(doc: J): { table: string; owner: string; ports: Record<string, [number, number][]> }[] {
  const items: J[] = Array.isArray(doc?.nftables) ? doc.nftables : [];
  const tables = items.filter((x) => x.table).map((x) => x.table as { family: string; name: string });
  const out: { table: string; owner: string; ports: Record<string, [number, number][]> }[] = [];
  for (const t of tables) {
    const { chains } = normalizeTable(doc, t.family, t.name);
    const owner = ownerOf(chains);
    if (owner !== undefined) out.push({ table: `${t.family} ${t.name}`, owner, ports: protectedPortsOf(chains) });
  }
  return out;
}

/** Does this table carry kvmshare's marker? */
export function isManaged(chains: Chains | null | undefined): boolean {
  return ownerOf(chains) !== undefined;
}
