/**
 * Client lists shared by NFS exports and SMB shares: what a client entry may be, and how a list
 * becomes the `allowedSources` a firewall takes (IP/CIDR only; host names are listed apart).
 */
import * as net from "net";
import { isCidr, isHostname } from "./validate";

/** What kind of client entry a string is. */
export type ClientKind = "any" | "ip" | "cidr" | "hostname" | "wildcard" | "invalid";

/** Classify one client entry: `*`, an IP, a CIDR, a host name, or a `*.domain` wildcard. */
export function clientKind(v: string): ClientKind {
  if (v === "*") return "any";
  if (net.isIP(v)) return "ip";
  if (isCidr(v)) return "cidr";
  if (isHostname(v)) return "hostname";
  if (/^\*\./.test(v) && isHostname(v.slice(2))) return "wildcard";
  return "invalid";
}

/** The any-address CIDRs a `*` client stands for. */
export const ANY_SOURCES = ["0.0.0.0/0", "::/0"];

/** The address part of a client list: IPs and CIDRs as given, `*` as both any-address CIDRs. */
export function allowedSourcesOf(clients: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of clients) {
    const k = clientKind(c);
    if (k === "ip" || k === "cidr") out.push(c);
    else if (k === "any") out.push(...ANY_SOURCES);
  }
  return [...new Set(out)];
}

/** The name part of a client list (host names and `*.domain` wildcards): a firewall must resolve these itself. */
export function allowedHostNamesOf(clients: readonly string[]): string[] {
  return [...new Set(clients.filter((c) => ["hostname", "wildcard"].includes(clientKind(c))))];
}
