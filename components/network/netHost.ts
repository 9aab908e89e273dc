/**
 * What every network kind shares: running a command inside an optional network namespace,
 * reading sysctls, the names the kernel accepts for devices/namespaces, and the small file
 * on the host that remembers the values found before kvmshare changed them (so removing a
 * resource puts them back).
 */
import { Host, RunOptions, RunResult } from "../../core/connection";
import { escapeControl, Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { Checker } from "../../core/validate";

/** The fields every network kind has. */
export interface NetTarget {
  /** Run every command inside this network namespace (`ip netns exec <netns> ...`). @default the host's */
  netns?: string;
  /** Directory where the values found before the first apply are kept. */
  stateDir: string;
  /** Put the recorded original values back when the resource is removed. */
  restoreOnRemove: boolean;
}

/** The fields of a kind that manages one interface (`LinkMtu`, `TcShaping`, `EthtoolSettings`). */
export interface DeviceTarget extends NetTarget {
  /** The interface, e.g. `br0`. */
  device: string;
}

/** `argv`, run inside `netns` when one is given. */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ["ip", "netns", "exec", netns, ...argv] : [...argv];
}

/** Run `argv` on `host`, inside `netns` when one is given. */
export function runIn(host: Host, netns: string | undefined, argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return host.run(inNetns(netns, argv), opts);
}

/** "host label" or "host label, netns x": where a message's setting lives. */
export function where(host: Host, netns: string | undefined): string {
  return netns ? `${host.label}, netns ${netns}` : host.label;
}

/** Linux interface names: 1-15 bytes, no '/', whitespace, or ':' at the start. */
export const DEVICE_RE = /^[A-Za-z0-9_.@-][A-Za-z0-9_.:@-]{0,14}$/;
/** `ip netns` names (a file under /run/netns). */
export const NETNS_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export function checkDevice(c: Checker, field: string, v: unknown): void {
  if (typeof v !== "string" || !DEVICE_RE.test(v) || v === "." || v === "..") {
    c.add(field, v, "must be a network interface name: 1-15 letters, digits, '_', '.', '-', '@', ':' (e.g. 'br0', 'eth0', 'vnet3')");
  }
}

export function checkTarget(c: Checker, prefix: string, spec: Partial<NetTarget>): void {
  if (spec.netns !== undefined && (typeof spec.netns !== "string" || !NETNS_RE.test(spec.netns))) {
    c.add(`${prefix}netns`, spec.netns, "must be a network namespace name as 'ip netns list' shows it (letters, digits, '_', '.', '-')");
  }
  c.required(`${prefix}stateDir`, spec.stateDir).absPath(`${prefix}stateDir`, spec.stateDir, "dir");
}

/** Whitespace-normalised sysctl value (`4096\t131072` -> `4096 131072`). */
export function normSysctl(v: string | number | boolean): string {
  const s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  return s.trim().split(/\s+/).join(" ");
}

/** The `/proc/sys` path of a sysctl key (`net.core.somaxconn` -> `/proc/sys/net/core/somaxconn`). */
export function sysctlPath(key: string): string {
  // sysctl(8): '.' separates levels; a '/' stands for a '.' inside one level (vlan eth0.100 -> eth0/100).
  const p = "/proc/sys/" + key.split(".").map((l) => l.replace(/\//g, ".")).join("/");
  // Never a file outside /proc/sys, whatever the key (validation refuses such keys first).
  if (!confined(p)) throw new Error(`sysctl key '${escapeControl(String(key))}' does not name a file under /proc/sys`);
  return p;
}

function confined(p: string): boolean {
  const levels = p.slice("/proc/sys/".length).split("/");
  return p.startsWith("/proc/sys/") && levels.every((l) => l !== "" && l !== "." && l !== "..") && !/[\0\n\r]/.test(p);
}

/** Does `key` map to a file under /proc/sys (no empty, '.' or '..' level)? */
export function sysctlPathConfined(key: string): boolean {
  return confined("/proc/sys/" + key.split(".").map((l) => l.replace(/\//g, ".")).join("/"));
}

/**
 * A value read from the host as a message may show it: a sysctl-looking value (letters,
 * digits, spaces and `_.:,/-`, at most 200 characters) as is, anything else never (a message
 * must not carry what a file on the host holds).
 */
export function shownValue(v: string | undefined): string {
  if (v === undefined) return "(absent)";
  return /^[A-Za-z0-9 _.:,\/-]{0,200}$/.test(v) ? v : "(a value kvmshare does not show)";
}

/** Current value of one sysctl inside `netns` (`undefined` when the key does not exist there). */
export async function readSysctl(host: Host, netns: string | undefined, key: string): Promise<string | undefined> {
  const r = await runIn(host, netns, ["cat", "--", sysctlPath(key)], { check: false });
  return r.code === 0 ? normSysctl(r.stdout) : undefined;
}

/** Current values of several sysctls in one command (missing keys are `undefined`). */
export async function readSysctls(host: Host, netns: string | undefined, keys: readonly string[]): Promise<Record<string, string | undefined>> {
  if (!keys.length) return {};
  // One process for all keys: a constant script, the paths as positional parameters.
  const script = 'for f in "$@"; do if v=$(cat -- "$f" 2>/dev/null); then printf "y%s\\0" "$v"; else printf "n\\0"; fi; done';
  const r = await runIn(host, netns, ["sh", "-c", script, "sh", ...keys.map(sysctlPath)]);
  const parts = r.stdout.split("\0");
  const out: Record<string, string | undefined> = {};
  keys.forEach((k, i) => {
    const p = parts[i] ?? "n";
    out[k] = p.startsWith("y") ? normSysctl(p.slice(1)) : undefined;
  });
  return out;
}

/** The file in `stateDir` that keeps one resource's original values. */
export function originalsPath(stateDir: string, kindName: string, netns: string | undefined, key: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.@-]/g, "_");
  return `${stateDir.replace(/\/+$/, "")}/${safe(kindName)}.${safe(netns ?? "host")}.${safe(key)}.json`;
}

/** Values found before kvmshare changed them (absent file: nothing recorded). */
export async function readOriginals<T>(host: Host, file: string): Promise<Record<string, T>> {
  const text = await host.readFile(file);
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as Record<string, T>;
  } catch {
    throw new Error(`${file} on ${host.label} is not valid JSON (kvmshare keeps the original network settings there); fix or delete it`);
  }
}

/** Record `current[k]` for every key not recorded yet (first sight wins). Returns the merged record. */
export async function recordOriginals<T>(host: Host, file: string, current: Record<string, T | undefined>): Promise<Record<string, T>> {
  const known = await readOriginals<T>(host, file);
  let changed = false;
  for (const [k, v] of Object.entries(current)) {
    if (!(k in known) && v !== undefined) {
      known[k] = v;
      changed = true;
    }
  }
  if (changed) await writeOriginals(host, file, known);
  return known;
}

export async function writeOriginals<T>(host: Host, file: string, values: Record<string, T>): Promise<void> {
  if (!Object.keys(values).length) {
    await host.removeFile(file);
    return;
  }
  await host.run(["mkdir", "-p", "--", file.slice(0, file.lastIndexOf("/")) || "/"]);
  await host.writeFileAtomic(file, JSON.stringify(values, null, 2) + "\n", { mode: "0600" });
}

/** A problem when `netns` is given but does not exist on the host (checked before anything else). */
export async function netnsProblems(host: Host, netns: string | undefined): Promise<Problem[]> {
  if (!netns) return [];
  const r = await host.run(["ip", "netns", "list"], { check: false });
  const names = r.stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
  if (names.includes(netns)) return [];
  return [{ field: "netns", value: netns, message: `no such network namespace on ${host.label} (create it first, e.g. 'ip netns add ${netns}'; existing: ${names.join(", ") || "none"})` }];
}

/** What `ip -j -d link` says about an interface. */
export interface LinkInfo {
  mtu: number;
  minMtu?: number;
  maxMtu?: number;
  operstate?: string;
  kind?: string;
}

/** `ip -j -d link show dev X`, or undefined when there is no such device. */
export async function linkInfo(host: Host, netns: string | undefined, device: string): Promise<LinkInfo | undefined> {
  const r = await runIn(host, netns, ["ip", "-j", "-d", "link", "show", "dev", device], { check: false });
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/i.test(r.stderr)) return undefined;
    throw new Error(`ip link show ${device} on ${where(host, netns)} failed: ${r.stderr.trim()}`);
  }
  const [l] = JSON.parse(r.stdout) as { mtu: number; min_mtu?: number; max_mtu?: number; operstate?: string; linkinfo?: { info_kind?: string } }[];
  return { mtu: l.mtu, minMtu: l.min_mtu, maxMtu: l.max_mtu, operstate: l.operstate, kind: l.linkinfo?.info_kind };
}

/**
 * The part every per-device kind shares: its name and version, its id
 * (`<name>:<netns or host>:<device>`), and replacement when the device or the namespace changes.
 */
export function deviceKind<Spec extends DeviceTarget>(
  name: string,
  validate: (spec: Spec) => Problem[],
): Pick<HostKind<Spec, never>, "name" | "version" | "validate" | "id" | "replaceOn"> {
  return { name, version: 1, validate, id: (spec) => `${name}:${spec.netns ?? "host"}:${spec.device}`, replaceOn: ["device", "netns"] };
}

/**
 * The preflight every per-device kind starts with: the namespace must exist, then `find`
 * must find the device (else "no such network interface"); `check` adds the kind's own problems.
 */
export async function devicePreflight<T>(
  host: Host,
  spec: DeviceTarget,
  find: () => Promise<T | undefined>,
  check: (found: T, at: string) => Problem[] = () => [],
): Promise<Problem[]> {
  const ns = await netnsProblems(host, spec.netns);
  if (ns.length) return ns;
  const at = where(host, spec.netns);
  const found = await find();
  if (!found) return [{ field: "device", value: spec.device, message: `no such network interface on ${at}` }];
  return check(found, at);
}
