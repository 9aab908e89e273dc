/**
 * Client lists shared by NFS exports, SMB shares, the firewall and HostGuestShare: what a client
 * entry may be, which entries mean "any host" (one concept, one message), and how a list becomes
 * the `allowedSources` a firewall takes (IP/CIDR only; host names are listed apart).
 */
import * as net from "net";
import type * as pulumi from "@pulumi/pulumi";
import { Problem } from "./errors";
import { isCidr, isHostname } from "./validate";

/** What kind of client entry a string is. */
export type ClientKind = "any" | "ip" | "cidr" | "hostname" | "wildcard" | "invalid";

/** The address as 4 (IPv4) or 16 (IPv6) bytes; undefined when it is not an IP address. */
export function addressBytes(addr: string): number[] | undefined {
  const fam = net.isIP(addr);
  if (fam === 4) return addr.split(".").map(Number);
  if (fam !== 6 || addr.includes("%")) return undefined;
  let text = addr;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail.push(...v4[1].split(".").map(Number));
    text = text.slice(0, -v4[1].length) + "0:0";
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = rest ? rest.split(":") : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * How wide an IP/CIDR is, as the IPv4 or IPv6 prefix it really covers: an IPv4-mapped IPv6
 * range (`::ffff:0.0.0.0/96`) counts as the IPv4 range it maps; a bare address counts as /32 or
 * /128, except the unspecified address (`0.0.0.0`, `::`), which daemons read as "any".
 */
function coverage(v: string): { family: 4 | 6; prefix: number; bytes: number[] } | undefined {
  const [addr, p, ...rest] = v.split("/");
  if (rest.length) return undefined;
  const bytes = addressBytes(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (p !== undefined && !/^\d{1,3}$/.test(p)) return undefined;
  let prefix = p === undefined ? max : Number(p);
  if (prefix > max) return undefined;
  if (p === undefined && bytes.every((b) => b === 0)) prefix = 0;
  const mapped = bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) {
    if (prefix >= 96) return { family: 4, prefix: p === undefined && bytes.slice(12).every((b) => b === 0) ? 0 : prefix - 96, bytes: bytes.slice(12) };
    return { family: 6, prefix, bytes };
  }
  return { family: bytes.length === 4 ? 4 : 6, prefix, bytes };
}

/** Keywords meaning "every host" in one of the files a client list reaches (Samba's `ALL`). */
const ANY_WORDS = new Set(["*", "0/0", "all", "any"]);

/**
 * Why `v` stands for (nearly) every host, or undefined when it does not: `*`, `ALL`, `0/0`, the
 * unspecified addresses `0.0.0.0` and `::`, any prefix-0 CIDR (`0.0.0.0/0`, `::/0`,
 * `10.0.0.0/0`), IPv4-mapped `::ffff:0.0.0.0/96`, and ranges so wide that they reach far past
 * any guest network: IPv4 shorter than /8, global IPv6 shorter than /16.
 */
export function anyHostReason(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (ANY_WORDS.has(s.toLowerCase())) return "it matches every address";
  const c = coverage(s);
  if (!c) return undefined;
  if (c.prefix === 0) return "it matches every address";
  if (c.family === 4 && c.prefix < 8) return `it covers 1/${2 ** c.prefix} of all IPv4 addresses`;
  if (c.family === 6 && c.prefix < 16) {
    // fc00::/7 (unique local) and fe80::/10 (link local) stay private however short the prefix.
    const ula = c.prefix >= 7 && (c.bytes[0] & 0xfe) === 0xfc;
    const linkLocal = c.prefix >= 10 && c.bytes[0] === 0xfe && (c.bytes[1] & 0xc0) === 0x80;
    if (!ula && !linkLocal) return `it covers 1/${2 ** c.prefix} of all IPv6 addresses, public ones included`;
  }
  return undefined;
}

/** Is `v` an any-host source (see `anyHostReason`)? */
export function isAnyHost(v: unknown): boolean {
  return anyHostReason(v) !== undefined;
}

/**
 * The one message for an any-host source: the field, the value, why it is "any", and the two
 * fixes (list the guests, or set the component's opt-in flag, named by `flag`).
 */
export function anyHostProblem(field: string, value: string, flag: string): Problem {
  return {
    field,
    value,
    message:
      `opens the share to every host that can reach the server (${anyHostReason(value) ?? "it matches every address"}); ` +
      `list the guests' addresses or subnets (e.g. 192.168.122.10 or 192.168.122.0/24), or set ${flag}: true if that is really meant`,
  };
}

/** Classify one client entry: any-host (see `isAnyHost`), an IP, a CIDR, a host name, or a `*.domain` wildcard. */
export function clientKind(v: string): ClientKind {
  if (typeof v !== "string") return "invalid";
  if (isAnyHost(v)) return "any";
  if (v.includes("%")) return "invalid";
  if (net.isIP(v)) return "ip";
  if (isCidr(v)) return "cidr";
  if (isHostname(v)) return "hostname";
  if (/^\*\./.test(v) && isHostname(v.slice(2))) return "wildcard";
  return "invalid";
}

/** The any-address CIDRs a `*` client stands for. */
export const ANY_SOURCES = ["0.0.0.0/0", "::/0"];

/**
 * The address part of a client list: IPs and CIDRs as given, an any-host entry as both
 * any-address CIDRs (a wide but not total CIDR stays as given).
 */
export function allowedSourcesOf(clients: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of clients) {
    const k = clientKind(c);
    if (k === "ip" || k === "cidr") out.push(c);
    else if (k === "any") {
      const cov = coverage(c.trim());
      if (cov && cov.prefix > 0) out.push(c.trim());
      else out.push(...ANY_SOURCES);
    }
  }
  return [...new Set(out)];
}

/**
 * The outputs of an export (NfsExport, SmbShare) a firewall takes: its client list split by
 * `allowedSourcesOf` and `allowedHostNamesOf`. Merged into the component's class
 * (`export interface NfsExport extends AllowedClients {}`).
 */
export interface AllowedClients {
  /** Client IPs/CIDRs (`*` becomes 0.0.0.0/0 and ::/0), for a firewall's allowed sources. */
  readonly allowedSources: pulumi.Output<string[]>;
  /** Client host names and `*.domain` wildcards (a firewall must resolve them itself). */
  readonly allowedHostNames: pulumi.Output<string[]>;
}

/** The name part of a client list (host names and `*.domain` wildcards): a firewall must resolve these itself. */
export function allowedHostNamesOf(clients: readonly string[]): string[] {
  return [...new Set(clients.filter((c) => ["hostname", "wildcard"].includes(clientKind(c))))];
}
