/**
 * IPv4/IPv6 addresses and CIDRs in the canonical text nft prints back (`nft list`, `nft -j`):
 * RFC 5952 IPv6 (`fd00::1`), a /32 or /128 as a bare address, prefixes with no host bits.
 * Using nft's own form on the desired side is what lets a read-back compare equal.
 */
import * as net from "net";

export interface Address {
  family: 4 | 6;
  /** Canonical text as nft prints it: `10.0.0.0/24`, `10.0.0.7`, `fd00:1::/64`. */
  text: string;
}

export type AddressResult = { ok: true; address: Address } | { ok: false; message: string };

function v4ToInt(a: string): number {
  return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** RFC 5952 text of an IPv6 address (the WHATWG URL parser implements exactly that). */
export function compressV6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

function v6ToBig(a: string): bigint {
  const c = compressV6(a);
  const [head, tail] = c.includes("::") ? c.split("::") : [c, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function bigToV6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return compressV6(groups.join(":"));
}

/**
 * Parse one allowed source: an IPv4/IPv6 address or CIDR. The message of a failure says what
 * to write instead (host bits set, a host name, `*`). `0.0.0.0/0` and `::/0` are accepted: they
 * are what an export to `*` hands over (`allowedSourcesOf`), so the export and the firewall agree.
 */
export function parseAddress(v: string): AddressResult {
  if (typeof v !== "string") return { ok: false, message: "must be a string: an IPv4/IPv6 address or CIDR" };
  const s = v.trim();
  if (s === "*" || s === "any" || s === "all") {
    return {
      ok: false,
      message: "is not an address; list the guests' addresses or subnets (e.g. 192.168.122.0/24), or, to allow everyone on purpose, write 0.0.0.0/0 and ::/0 and set allowAnySource: true",
    };
  }
  if (s.includes("%")) {
    return { ok: false, message: "has a zone index (like fe80::1%eth0), which nft cannot match; write the address without it, or allow the interface in allowedInterfaces" };
  }
  const [addr, prefix, ...rest] = s.split("/");
  const fam = net.isIP(addr);
  if (fam === 0 || rest.length) {
    const hint = /^[A-Za-z][A-Za-z0-9.-]*$/.test(s)
      ? " (host names are not resolved by the firewall: use the guest's address, or put an interface name in allowedInterfaces)"
      : "";
    return { ok: false, message: `must be an IPv4/IPv6 address or a CIDR like 192.168.122.0/24 or fd00::/64${hint}` };
  }
  if (fam === 6 && /^::ffff:/i.test(addr) && addr.includes(".")) {
    return { ok: false, message: `is an IPv4-mapped IPv6 address; write the IPv4 form ('${addr.slice(7)}')` };
  }
  const max = fam === 4 ? 32 : 128;
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)) {
    return { ok: false, message: `has an invalid prefix length '/${prefix}' (IPv${fam} prefixes are 0-${max})` };
  }
  const len = prefix === undefined ? max : Number(prefix);
  if (fam === 4) {
    const n = v4ToInt(addr);
    const size = 2 ** (32 - len);
    const network = n - (n % size);
    if (network !== n) {
      return { ok: false, message: `has host bits set; did you mean '${intToV4(network)}/${len}' (the subnet) or '${addr}' (the one host)?` };
    }
    return { ok: true, address: { family: 4, text: len === 32 ? intToV4(n) : `${intToV4(n)}/${len}` } };
  }
  const n = v6ToBig(addr);
  const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
  const network = n & mask;
  if (network !== n) {
    return { ok: false, message: `has host bits set; did you mean '${bigToV6(network)}/${len}' (the subnet) or '${compressV6(addr)}' (the one host)?` };
  }
  return { ok: true, address: { family: 6, text: len === 128 ? bigToV6(n) : `${bigToV6(n)}/${len}` } };
}
