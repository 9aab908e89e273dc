/**
 * HostPackages: the packages a host must have, installed with the host's own package manager
 * (apt-get on Debian/Ubuntu, dnf on Fedora/RHEL); names from the per-distro table. Missing ones
 * are drift. What this resource installed is recorded on the host (`<recordDir>/<name>.list`),
 * and only that is ever removed (with `removePackages: true`).
 */
import { CommandError, Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { APT_REGEX_PRONE } from "../../core/reserved";
import { packagesFor } from "./distroPackages";
import { installedPackages, missingManagerCommands, readDistro } from "./hostDistro";
import { HostPackagesSpec, validateHostPackages } from "./hostPackagesArgs";

export type { HostPackagesSpec } from "./hostPackagesArgs";

export type HostPackagesState = {
  /** The host's distribution (`ID VERSION_ID`). */
  distro?: string;
  /** The package names wanted on this host (from the table plus `packages`). */
  packages?: string[];
  /** Wanted packages that are not installed: drift when not empty. */
  missing: string[];
  /** What this resource installed (its record on the host). */
  installedByKvmshare?: string[];
};

/** apt-get's messages for a package its lists do not have (then `apt-get update` is worth a try). */
const APT_NOT_FOUND = /Unable to locate package|has no installation candidate|is not available, but is referred to/;

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_MODE: "l" };
const APT_OPTS = ["-o", "DPkg::Lock::Timeout=300", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];

/**
 * Which of `names` the host's apt index does not list under exactly that name, asked without any
 * pattern reading: `apt-cache pkgnames` lists every package name (no argument: no prefix, no
 * regex) and awk keeps the lines equal to a wanted name. `undefined` when the host has no index
 * yet (a fresh host before its first `apt-get update`). The names go in as arguments, never into
 * the script; one apt-cache run for all of them (about 1.5 s for 121,000 names).
 */
async function notInAptIndex(host: Host, names: readonly string[]): Promise<string[] | undefined> {
  // No `*_Packages*` file in apt's lists directory: no index yet (apt-cache still lists the
  // installed packages from dpkg's status then, which would make every other name "missing").
  const script =
    'd=/var/lib/apt/lists/; eval "$(apt-config shell d Dir::State::lists/d 2>/dev/null)"; ' +
    'ls "$d"*_Packages* >/dev/null 2>&1 || { echo "#no index"; exit 0; }; ' +
    'apt-cache pkgnames 2>/dev/null | awk \'BEGIN { for (i = 1; i < ARGC; i++) want[ARGV[i]] = 1; ARGC = 1 } NR == 1 { any = 1 } ($0 in want) { print } END { if (!any) print "#no index" }\' "$@"';
  const r = await host.run(["sh", "-c", script, "sh", ...names], { check: false });
  const found = new Set(r.stdout.split("\n"));
  return found.has("#no index") ? undefined : names.filter((n) => !found.has(n));
}

/**
 * Problems with the user's package names on an apt host: each must be a package of the host's
 * index by its exact name, because apt-get reads a name no package has as a regular expression
 * (`python3-ruamel.yam` installs two packages) and installs every match.
 */
async function aptIndexProblems(host: Host, packages: readonly string[]): Promise<Problem[]> {
  if (!packages.length) return [];
  const missing = await notInAptIndex(host, packages);
  const field = (n: string) => `packages[${packages.indexOf(n)}]`;
  if (missing === undefined) {
    return packages
      .filter((n) => APT_REGEX_PRONE.test(n))
      .map((n) => ({ field: field(n), value: n, message: `cannot be checked: ${host.label} has no apt package index yet, and apt-get reads a name with '.' or '+' that no package has as a regular expression; run apt-get update on the host first, then preview again` }));
  }
  return missing.map((n) => ({
    field: field(n),
    value: n,
    message: `is not a package in ${host.label}'s apt index (apt-cache pkgnames lists no package of exactly that name)${APT_REGEX_PRONE.test(n) ? ", and apt-get would read it as a regular expression and install every package it matches" : ""}; write the package's exact name (see apt-cache search), or run apt-get update on the host if its index is stale`,
  }));
}

function recordPath(spec: HostPackagesSpec): string {
  return `${spec.recordDir.replace(/\/$/, "")}/${spec.name}.list`;
}

async function readRecord(host: Host, path: string): Promise<string[]> {
  const text = await host.readFile(path);
  return text === undefined ? [] : text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

/** Packages other kvmshare resources on this host recorded as theirs. */
async function othersRecorded(host: Host, spec: HostPackagesSpec): Promise<Set<string>> {
  const r = await host.run(["sh", "-c", 'for f in "$1"/*.list; do [ -f "$f" ] && [ "$f" != "$2" ] && cat -- "$f"; done; true', "sh", spec.recordDir, recordPath(spec)], { check: false });
  return new Set(r.stdout.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")));
}

/**
 * Every package-manager call of kvmshare on a host goes through one lock file (util-linux
 * `flock`): several HostPackages of one stack apply in parallel, and while dpkg waits for its
 * own lock (`DPkg::Lock::Timeout`), `apt-get update` does not wait for the lists lock.
 */
function locked(spec: HostPackagesSpec, argv: string[]): string[] {
  return ["flock", "-w", "1800", `${spec.recordDir.replace(/\/$/, "")}/.lock`, ...argv];
}

async function install(host: Host, spec: HostPackagesSpec, manager: "apt" | "dnf", names: string[], log: (m: string) => void): Promise<void> {
  await host.run(["mkdir", "-p", "-m", "0755", spec.recordDir]);
  if (manager === "dnf") {
    await host.run(locked(spec, ["dnf", "install", "-y", ...names]), { timeoutMs: 1_800_000 });
    return;
  }
  const argv = locked(spec, ["apt-get", ...APT_OPTS, "install", "-y", "--no-install-recommends", ...names]);
  const first = await host.run(argv, { env: APT_ENV, check: false, timeoutMs: 1_800_000 });
  if (first.code === 0) return;
  if (!APT_NOT_FOUND.test(first.stderr + first.stdout)) throw new CommandError(argv, first.code, first.stderr, host.label);
  log(`apt-get does not know some of them yet; running apt-get update`);
  await host.run(locked(spec, ["apt-get", ...APT_OPTS, "update"]), { env: APT_ENV, timeoutMs: 900_000 });
  await host.run(argv, { env: APT_ENV, timeoutMs: 1_800_000 });
}

export const kind: HostKind<HostPackagesSpec, HostPackagesState> = {
  name: "HostPackages",
  version: 1,
  validate: validateHostPackages,
  absentAs: "(no /etc/os-release on host)",

  async preflight(host, spec) {
    const d = await readDistro(host);
    const field = spec.needs.length ? "needs" : "packages";
    if (!d) return [{ field, value: spec.needs, message: `${host.label} has no /etc/os-release, so its distribution (and package names) are unknown; install the packages yourself and set hostSetup: false` }];
    if (!d.facts) {
      return [{ field, value: d.os.id, message: `${host.label} runs ${d.os.prettyName}, which kvmshare's package table does not know (debian, ubuntu, fedora, rhel and their ID_LIKE); install the packages yourself and set hostSetup: false` }];
    }
    const problems: Problem[] = [];
    const missingCmds = await missingManagerCommands(host, d.facts);
    if (missingCmds.length) problems.push({ field, value: missingCmds, message: `${host.label} lacks its package manager (${missingCmds.join(", ")}); install the packages yourself and set hostSetup: false` });
    // dnf reads no regular expression in a name (globs are refused by the validation).
    else if (d.facts.manager === "apt") problems.push(...(await aptIndexProblems(host, spec.packages)));
    return problems;
  },

  render() {
    return { missing: [] };
  },

  async probe(host, spec) {
    const d = await readDistro(host);
    if (!d) return undefined;
    const mine = await readRecord(host, recordPath(spec));
    if (!d.facts) return { distro: `${d.os.id} ${d.os.versionId}`.trim(), packages: spec.packages, missing: [...spec.packages], installedByKvmshare: mine };
    const wanted = packagesFor(d.facts, spec.needs, spec.packages);
    const have = await installedPackages(host, d.facts, wanted);
    return { distro: `${d.os.id} ${d.os.versionId}`.trim(), packages: wanted, missing: wanted.filter((p) => !have.has(p)), installedByKvmshare: mine };
  },

  compare(desired, observed) {
    return JSON.stringify(desired.missing) === JSON.stringify(observed.missing) ? [] : ["missing"];
  },

  async apply(host, ctx) {
    const d = await readDistro(host);
    if (!d?.facts) throw new Error(`HostPackages: ${host.label}: unknown distribution; set hostSetup: false and install the packages yourself`);
    const wanted = packagesFor(d.facts, ctx.spec.needs, ctx.spec.packages);
    const have = await installedPackages(host, d.facts, wanted);
    const missing = wanted.filter((p) => !have.has(p));
    const record = recordPath(ctx.spec);
    const mine = await readRecord(host, record);
    if (!missing.length) {
      ctx.log(`${host.label}: ${wanted.length ? wanted.join(", ") : "nothing"} already installed`);
      return;
    }
    const uid = (await host.run(["id", "-u"])).stdout.trim();
    if (uid !== "0") throw new Error(`HostPackages: installing ${missing.join(", ")} on ${host.label} needs root (connected as uid ${uid}); connect as root or set hostSetup: false`);
    const t0 = Date.now();
    ctx.log(`${host.label} (${d.os.prettyName}): installing ${missing.join(", ")} with ${d.facts.manager === "apt" ? "apt-get" : "dnf"}`);
    await install(host, ctx.spec, d.facts.manager, missing, ctx.log);
    const now = await installedPackages(host, d.facts, wanted);
    const still = wanted.filter((p) => !now.has(p));
    if (still.length) throw new Error(`HostPackages: ${host.label}: ${still.join(", ")} still not installed after ${d.facts.manager}`);
    const added = [...new Set([...mine, ...missing])];
    await host.run(["mkdir", "-p", "-m", "0755", ctx.spec.recordDir]);
    await host.writeFileAtomic(record, `# installed by kvmshare HostPackages '${ctx.spec.name}'; removed on destroy only with removePackages: true\n${added.join("\n")}\n`);
    ctx.log(`${host.label}: installed ${missing.join(", ")} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },

  async remove(host, spec, _observed, log) {
    const record = recordPath(spec);
    const mine = await readRecord(host, record);
    if (spec.removePackages && mine.length) {
      const others = await othersRecorded(host, spec);
      const d = await readDistro(host);
      const kept = mine.filter((p) => others.has(p));
      const gone = mine.filter((p) => !others.has(p));
      if (kept.length) log(`${host.label}: keeping ${kept.join(", ")} (another kvmshare resource installed them too)`);
      if (gone.length && d?.facts) {
        const present = await installedPackages(host, d.facts, gone);
        const names = gone.filter((p) => present.has(p));
        if (names.length) {
          log(`${host.label}: removing ${names.join(", ")} (installed by this resource)`);
          if (d.facts.manager === "apt") await host.run(locked(spec, ["apt-get", ...APT_OPTS, "remove", "-y", ...names]), { env: APT_ENV, timeoutMs: 900_000 });
          else await host.run(locked(spec, ["dnf", "remove", "-y", ...names]), { timeoutMs: 900_000 });
        }
      }
    } else if (mine.length) {
      log(`${host.label}: leaving ${mine.join(", ")} installed (removePackages: false)`);
    }
    await host.removeFile(record);
  },

  outputs(_spec, observed) {
    return { installedByKvmshare: observed?.installedByKvmshare ?? [] };
  },

  id(spec) {
    return `HostPackages:${spec.name}`;
  },
};
