/** Reading a host's distribution and package state (argv only; names as separate arguments). */
import { Host } from "../../core/connection";
import { hasCommand } from "../../core/hostChecks";
import { DistroFacts, distroOf, OsRelease, parseOsRelease } from "./distroPackages";

export interface HostDistro {
  os: OsRelease;
  /** The table row, or undefined for a distribution kvmshare does not know. */
  facts: DistroFacts | undefined;
}

/** The host's /etc/os-release and its row of the per-distro table (undefined: no os-release). */
export async function readDistro(host: Host): Promise<HostDistro | undefined> {
  const text = (await host.readFile("/etc/os-release")) ?? (await host.readFile("/usr/lib/os-release"));
  if (text === undefined) return undefined;
  const os = parseOsRelease(text);
  return { os, facts: distroOf(os) };
}

/** The commands each package manager needs. */
export const MANAGER_COMMANDS = { apt: ["apt-get", "dpkg-query", "flock"], dnf: ["dnf", "rpm", "flock"] } as const;

/** The manager commands the host lacks. */
export async function missingManagerCommands(host: Host, facts: DistroFacts): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of MANAGER_COMMANDS[facts.manager]) if (!(await hasCommand(host, cmd))) missing.push(cmd);
  return missing;
}

/** Which of `names` are installed (fully: dpkg `ii`, or known to rpm). */
export async function installedPackages(host: Host, facts: DistroFacts, names: readonly string[]): Promise<Set<string>> {
  const got = new Set<string>();
  if (!names.length) return got;
  if (facts.manager === "apt") {
    // Exits 1 when a name is unknown to dpkg; the others are still listed.
    const r = await host.run(["dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\n", ...names], { check: false });
    for (const line of r.stdout.split("\n")) {
      const [pkg, status] = line.split("\t");
      if (pkg && status?.startsWith("ii")) got.add(pkg);
    }
  } else {
    const r = await host.run(["rpm", "-q", "--qf", "%{NAME}\\n", ...names], { check: false });
    for (const line of r.stdout.split("\n")) if (names.includes(line.trim())) got.add(line.trim());
  }
  return got;
}
