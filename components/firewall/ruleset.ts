/**
 * The ruleset a ShareFirewall owns, as canonical rule text: the exact statements nft prints
 * back (`nft list table`), so the same strings are rendered into the nft file and compared
 * with what `nftJson.ts` reads back from the kernel. Pure: no host, no nft.
 *
 *   chain input  (hook input): tcp/udp dport <protected ports> jump shares
 *   chain shares:              accept loopback, allowed interfaces, allowed addresses;
 *                              then an optional rate-limited log, then drop or reject
 */
import { parseAddress } from "./address";
import { PortProtocol, protectedPorts, PROTOCOLS, ShareFirewallSpec } from "./shareFirewallArgs";

/** The base chain's header as nft prints it (`priority 0` reads back as `prio: 0`). */
export const INPUT_BASE = "type filter hook input priority 0; policy accept;";
/**
 * Comment on the rules that send traffic to the allow-list: marks a table kvmshare owns, and
 * which firewall owns it (`kvmshare:<project>/<stack>/<name>`).
 */
export const MARKER = "kvmshare";

export function markerOf(owner: string): string {
  return owner ? `${MARKER}:${owner}` : MARKER;
}
export const ALLOW_CHAIN = "shares";

export type ChainState = {
  /** Base-chain header (`type ... hook ... priority ...; policy ...;`), `null` for a regular chain. */
  base: string | null;
  /** Rules in order, as canonical nft statements. */
  rules: string[];
};

export type Chains = Record<string, ChainState>;

/** Merge port ranges into sorted, disjoint, non-adjacent ranges (what an nft interval set holds). */
export function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** `445`, `30000-30010` or `{ 111, 445, 2049-2050 }`: a port match's right-hand side as nft prints it. */
export function portSetText(ranges: [number, number][]): string {
  const items = mergeRanges(ranges).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
  return items.length === 1 ? items[0] : `{ ${items.join(", ")} }`;
}

/** nft string literal (values are validated to contain no quote, backslash or newline). */
export function nftString(s: string): string {
  return `"${s}"`;
}

/** Protected ports per protocol, merged. Protocols with no port are absent. */
export function portsByProtocol(spec: ShareFirewallSpec): Partial<Record<PortProtocol, [number, number][]>> {
  const out: Partial<Record<PortProtocol, [number, number][]>> = {};
  for (const proto of PROTOCOLS) {
    const rs = protectedPorts(spec).filter((p) => p.protocol === proto).map((p) => [p.from, p.to] as [number, number]);
    if (rs.length) out[proto] = mergeRanges(rs);
  }
  return out;
}

/** Canonical allowed addresses by family, sorted and de-duplicated (invalid ones skipped: validation reports them). */
export function allowedAddresses(spec: ShareFirewallSpec): { v4: string[]; v6: string[] } {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const s of spec.allowedSources) {
    const r = parseAddress(s);
    if (r.ok) (r.address.family === 4 ? v4 : v6).add(r.address.text);
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() };
}

/** The desired chains of the owned table. */
export function buildChains(spec: ShareFirewallSpec): Chains {
  const counter = spec.counter ? "counter " : "";
  const input: string[] = [];
  const ports = portsByProtocol(spec);
  for (const proto of PROTOCOLS) {
    const rs = ports[proto];
    if (rs) input.push(`${proto} dport ${portSetText(rs)} jump ${ALLOW_CHAIN} comment ${nftString(markerOf(spec.owner))}`);
  }
  const allow: string[] = [];
  if (spec.allowLoopback) allow.push(`iifname "lo" accept`);
  for (const i of [...spec.allowedInterfaces].sort()) allow.push(`iifname ${nftString(i)} ${counter}accept`);
  const { v4, v6 } = allowedAddresses(spec);
  for (const a of v4) allow.push(`ip saddr ${a} ${counter}accept`);
  for (const a of v6) allow.push(`ip6 saddr ${a} ${counter}accept`);
  if (spec.logRatePerMinute > 0) {
    allow.push(`limit rate ${spec.logRatePerMinute}/minute burst 5 packets log prefix ${nftString(spec.logPrefix)} level info`);
  }
  if (spec.action === "reject") {
    allow.push(`meta l4proto tcp ${counter}reject with tcp reset`);
    allow.push(`${counter}reject`);
  } else {
    allow.push(`${counter}drop`);
  }
  return { input: { base: INPUT_BASE, rules: input }, [ALLOW_CHAIN]: { base: null, rules: allow } };
}
