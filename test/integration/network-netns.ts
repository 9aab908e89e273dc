/**
 * Test fixture for the network tests: two network namespaces joined by a veth pair, with
 * unique names, always deleted (deleting a namespace deletes its end of the pair).
 */
import { execFileSync, spawn, ChildProcess } from "child_process";

export interface VethPair {
  nsA: string;
  nsB: string;
  devA: string;
  devB: string;
  ipA: string;
  ipB: string;
}

export function sh(argv: string[], opts: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (opts.allowFail) return "";
    const err = e as { stderr?: string; message: string };
    throw new Error(`${argv.join(" ")}: ${err.stderr || err.message}`);
  }
}

/** `argv` inside namespace `ns`. */
export function nsRun(ns: string, argv: string[], opts: { allowFail?: boolean } = {}): string {
  return sh(["ip", "netns", "exec", ns, ...argv], opts);
}

/** Create ns `ks-<tag>-a-<pid>` / `-b-`, veth `k<tag>a<pid>` / `b`, 10.<n>.0.1/2 on them, links up. */
export function createVethPair(tag: string, subnet: number): VethPair {
  const id = process.pid % 100000;
  const p: VethPair = {
    nsA: `ks-${tag}-a-${id}`,
    nsB: `ks-${tag}-b-${id}`,
    devA: `k${tag.slice(0, 3)}a${id}`,
    devB: `k${tag.slice(0, 3)}b${id}`,
    ipA: `10.${subnet}.0.1`,
    ipB: `10.${subnet}.0.2`,
  };
  try {
    sh(["ip", "netns", "add", p.nsA]);
    sh(["ip", "netns", "add", p.nsB]);
    sh(["ip", "link", "add", p.devA, "netns", p.nsA, "type", "veth", "peer", "name", p.devB, "netns", p.nsB]);
    for (const [ns, dev, ip] of [[p.nsA, p.devA, p.ipA], [p.nsB, p.devB, p.ipB]]) {
      sh(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", dev]);
      sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
      sh(["ip", "-n", ns, "link", "set", dev, "up"]);
    }
  } catch (e) {
    deleteVethPair(p);
    throw e;
  }
  return p;
}

export function deleteVethPair(p: VethPair | undefined): void {
  if (!p) return;
  sh(["ip", "netns", "del", p.nsA], { allowFail: true });
  sh(["ip", "netns", "del", p.nsB], { allowFail: true });
}

export function netnsExists(name: string): boolean {
  return sh(["ip", "netns", "list"]).split("\n").some((l) => l.split(" ")[0] === name);
}

/** A daemon started in a namespace; stopped by its PID only. */
export function startIn(ns: string, argv: string[]): ChildProcess {
  // `ip netns exec` execs the command in place, so the child's PID is the daemon's.
  return spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
}

export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  const done = new Promise((r) => child.once("exit", r));
  process.kill(child.pid, "SIGTERM");
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, "SIGKILL"), 3000);
  await done;
  clearTimeout(t);
}
