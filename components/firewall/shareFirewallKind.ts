/**
 * Kind: the nftables table a ShareFirewall owns. The rendered file is checked with
 * `nft -c -f`, then loaded in one `nft -f` transaction (add + delete + define the table, so
 * nothing else in the ruleset is touched and there is never a moment without the rules),
 * and written to the persistence file. `probe` reads the table back with `nft -j list table`
 * and normalizes it, so a rule deleted or changed by hand is drift.
 */
import * as path from "path";
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind, sameJson } from "../../core/hostKind";
import { render } from "../../core/render";
import { isManaged, kvmshareTables, normalizeTable, ownerOf } from "./nftJson";
import { ALLOW_CHAIN, allowedAddresses, buildChains, Chains, portsByProtocol, portSetText } from "./ruleset";
import { NFT_PERSIST_DIR, resolveShareFirewall, ShareFirewallOptions, ShareFirewallSpec, validateShareFirewall } from "./shareFirewallArgs";

export const FAMILY = "inet";

export type ShareFirewallState = {
  /** `inet <name>`. */
  table: string;
  /** The table's chains in canonical form; `null` when the table does not exist. */
  chains: Chains | null;
  /** Other objects in the table (sets, maps...): kvmshare creates none. */
  other: string[];
  /** Content of the persistence file; `null` when absent or not persisted. */
  file: string | null;
};

/** The argv that runs `nft` with these arguments, inside the spec's network namespace if any. */
export function nftArgv(spec: ShareFirewallSpec, args: string[]): string[] {
  return spec.netns ? ["ip", "netns", "exec", spec.netns, "nft", ...args] : ["nft", ...args];
}

/** The nft file: one transaction that replaces the owned table and nothing else. */
export function renderNftFile(spec: ShareFirewallSpec): string {
  const chains = buildChains(spec);
  const ports = portsByProtocol(spec);
  const protects = Object.entries(ports)
    .map(([proto, rs]) => `${proto} ${portSetText(rs!)}`)
    .join(", ");
  return render("nftables-table.hbs", {
    family: FAMILY,
    table: spec.tableName,
    protects: `${protects} (${spec.services.join(", ") || "extra ports"})`,
    fileName: spec.persistPath ?? `${spec.tableName}.nft`,
    includeGlob: `${spec.persistPath ? path.posix.dirname(spec.persistPath) : NFT_PERSIST_DIR}/*.nft`,
    chains: Object.entries(chains).map(([name, c]) => ({ name, lines: [...(c.base ? [c.base] : []), ...c.rules] })),
  });
}

/** The nft input that removes the owned table (and succeeds when it is already gone). */
export function removalScript(spec: ShareFirewallSpec): string {
  return `table ${FAMILY} ${spec.tableName} {}\ndelete table ${FAMILY} ${spec.tableName}\n`;
}

/** Whether the spec's network namespace exists (always true without one). */
export async function netnsExists(host: Host, spec: ShareFirewallSpec): Promise<boolean> {
  if (!spec.netns) return true;
  return (await host.run(["ip", "netns", "exec", spec.netns, "true"], { check: false })).code === 0;
}

/** The live table, normalized; `undefined` when absent (or when its network namespace is gone). */
export async function readTable(host: Host, spec: ShareFirewallSpec): Promise<{ chains: Chains; other: string[] } | undefined> {
  if (!(await netnsExists(host, spec))) return undefined;
  const r = await host.run(nftArgv(spec, ["-j", "list", "table", FAMILY, spec.tableName]), { check: false });
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new Error(`ShareFirewall: cannot read table ${FAMILY} ${spec.tableName} on ${host.label}: ${r.stderr.trim()}`);
  }
  return normalizeTable(JSON.parse(r.stdout), FAMILY, spec.tableName);
}

function desiredState(spec: ShareFirewallSpec): ShareFirewallState {
  return {
    table: `${FAMILY} ${spec.tableName}`,
    chains: buildChains(spec),
    other: [],
    file: spec.persistPath ? renderNftFile(spec) : null,
  };
}

function compareStates(desired: ShareFirewallState, observed: ShareFirewallState): string[] {
  const out: string[] = [];
  if (!observed.chains) out.push("table");
  else {
    const names = new Set([...Object.keys(desired.chains ?? {}), ...Object.keys(observed.chains)]);
    for (const n of names) {
      if (!sameJson(desired.chains?.[n] ?? null, observed.chains[n] ?? null)) out.push(`chains.${n}`);
    }
    if (!sameJson(desired.other, observed.other)) out.push("other");
  }
  if (desired.file !== observed.file) out.push("file");
  return out;
}

function unmanagedTableMessage(spec: ShareFirewallSpec, where: string): string {
  return (
    `table ${FAMILY} ${spec.tableName} already exists on ${where} and was not created by kvmshare ` +
    `(no rule carries the 'kvmshare' comment); kvmshare never replaces a table it does not own: ` +
    `set tableName to another name, or delete that table yourself`
  );
}

/**
 * Another kvmshare table protecting one of the same ports: a client would have to be allowed by
 * both (a drop in either table is final), so two firewalls for two guests would lock both out.
 */
export function overlapProblems(spec: ShareFirewallSpec, ruleset: unknown, where: string): Problem[] {
  const mine = portsByProtocol(spec);
  const problems: Problem[] = [];
  for (const t of kvmshareTables(ruleset)) {
    if (t.table === `${FAMILY} ${spec.tableName}`) continue;
    const shared: string[] = [];
    for (const [proto, ranges] of Object.entries(mine)) {
      for (const [a, b] of ranges ?? []) {
        for (const [c, d] of t.ports[proto] ?? []) {
          const lo = Math.max(a, c);
          const hi = Math.min(b, d);
          if (lo <= hi) shared.push(`${lo === hi ? lo : `${lo}-${hi}`}/${proto}`);
        }
      }
    }
    if (shared.length) {
      problems.push({
        field: "tableName",
        value: spec.tableName,
        message:
          `table ${t.table} on ${where} (ShareFirewall '${t.owner || "?"}') already protects ${shared.join(", ")}; ` +
          `a client would need to be allowed by both tables, so each firewall would lock out the other's guests. ` +
          `Declare one ShareFirewall per host with every share's allowedSources (e.g. pulumi.all([...]) of the exports' lists)`,
      });
    }
  }
  return problems;
}

function ownedByOtherMessage(spec: ShareFirewallSpec, owner: string, where: string): string {
  return (
    `table ${FAMILY} ${spec.tableName} on ${where} belongs to another ShareFirewall ('${owner}'); two firewalls ` +
    `sharing one table would overwrite each other: declare one ShareFirewall per host with every share's allowedSources ` +
    `(or, for other ports, give this one its own tableName; after renaming a ShareFirewall, delete the old table with ` +
    `'nft delete table ${FAMILY} ${spec.tableName}' first)`
  );
}

/** nft runs (in the namespace, if any); the table is kvmshare's and this stack's; no other kvmshare table guards the same ports (`overlapProblems`). */
async function preflight(host: Host, o: ShareFirewallOptions): Promise<Problem[]> {
  const spec = resolveShareFirewall(o);
  const v = await host.run(nftArgv(spec, ["--version"]), { check: false });
  if (v.code !== 0) {
    const why = v.stderr.trim().split("\n").pop() ?? "";
    return spec.netns && /netns|namespace/i.test(why)
      ? [{ field: "netns", value: spec.netns, message: `cannot enter this network namespace on ${host.label} (${why}); create it or fix the name` }]
      : [{ field: "(host)", value: host.label, message: `cannot run nft (${why}); install the 'nftables' package` }];
  }
  // A table of that name that kvmshare did not make (no marker, no allow-list chain) is never taken over.
  const table = await readTable(host, spec);
  if (table && !isManaged(table.chains) && !table.chains[ALLOW_CHAIN]) {
    return [{ field: "tableName", value: spec.tableName, message: unmanagedTableMessage(spec, host.label) }];
  }
  const owner = ownerOf(table?.chains);
  if (owner && spec.owner && owner !== spec.owner) {
    return [{ field: "tableName", value: spec.tableName, message: ownedByOtherMessage(spec, owner, host.label) }];
  }
  return overlapProblems(spec, await host.run(nftArgv(spec, ["-j", "list", "ruleset"])).then((r) => JSON.parse(r.stdout)), host.label);
}

export const kind: HostKind<ShareFirewallOptions, ShareFirewallState> = {
  name: "ShareFirewall",
  version: 1,
  validate: (o) => validateShareFirewall(o),
  preflight,
  render: (o) => desiredState(resolveShareFirewall(o)),
  async probe(host, o) {
    const spec = resolveShareFirewall(o);
    const table = await readTable(host, spec);
    const file = spec.persistPath ? ((await host.readFile(spec.persistPath)) ?? null) : null;
    if (!table && file === null) return undefined;
    return { table: `${FAMILY} ${spec.tableName}`, chains: table?.chains ?? null, other: table?.other ?? [], file };
  },
  compare: compareStates,
  project(o, observed) {
    // Name the drifted allow-list in `preview --refresh --diff` (ports are read from the spec).
    const allow = observed.chains?.shares?.rules ?? [];
    const sources = allow.map((r) => /^ip6? saddr (\S+) /.exec(r)?.[1]).filter((s): s is string => !!s);
    const ifaces = allow.map((r) => /^iifname "([^"]+)" (?:counter )?accept$/.exec(r)?.[1]).filter((s): s is string => !!s && s !== "lo");
    const spec = resolveShareFirewall(o);
    const { v4, v6 } = allowedAddresses(spec);
    const same = sameJson([...v4, ...v6], sources);
    const out: ShareFirewallOptions = { ...o };
    if (!same) out.allowedSources = sources;
    if (!sameJson([...spec.allowedInterfaces].sort(), ifaces)) out.allowedInterfaces = ifaces;
    return out;
  },
  outputs: (o, observed) => {
    const spec = resolveShareFirewall(o);
    return { table: `${FAMILY} ${spec.tableName}`, persistPath: spec.persistPath, rules: observed?.chains ?? null };
  },
  replaceOn: ["tableName", "netns"],
  id: (o) => {
    const spec = resolveShareFirewall(o);
    return `ShareFirewall:${spec.netns ? `netns ${spec.netns}:` : ""}${FAMILY} ${spec.tableName}`;
  },
  async apply(host, { spec: o, desired, live, previous, log }) {
    const spec = resolveShareFirewall(o);
    if (live?.chains && !previous && !isManaged(live.chains)) throw new Error(`ShareFirewall: ${unmanagedTableMessage(spec, host.label)}`);
    const owner = ownerOf(live?.chains);
    if (owner && spec.owner && owner !== spec.owner) throw new Error(`ShareFirewall: ${ownedByOtherMessage(spec, owner, host.label)}`);
    const content = renderNftFile(spec);
    if (!live || compareStates(desired, live).some((d) => d !== "file")) {
      // nft's own parser (and the kernel, in check mode) first; nothing is changed if it fails.
      await host.run(nftArgv(spec, ["-c", "-f", "-"]), { stdin: content });
      await host.run(nftArgv(spec, ["-f", "-"]), { stdin: content });
      log(`loaded table ${FAMILY} ${spec.tableName}${spec.netns ? ` in netns ${spec.netns}` : ""} on ${host.label}`);
    }
    const prevPath = previous ? resolveShareFirewall(previous.spec).persistPath : null;
    if (prevPath && prevPath !== spec.persistPath && (await host.removeFile(prevPath))) log(`removed ${prevPath}`);
    if (spec.persistPath && live?.file !== content) {
      await host.run(["mkdir", "-p", "--", path.posix.dirname(spec.persistPath)]);
      await host.writeFileAtomic(spec.persistPath, content, { mode: "0644" });
      log(`wrote ${spec.persistPath} on ${host.label}`);
    }
  },
  async remove(host, o, _observed, log) {
    const spec = resolveShareFirewall(o);
    if (!(await netnsExists(host, spec))) {
      log(`network namespace ${spec.netns} is gone on ${host.label}, and table ${FAMILY} ${spec.tableName} with it`);
    } else {
      await host.run(nftArgv(spec, ["-f", "-"]), { stdin: removalScript(spec) });
      log(`deleted table ${FAMILY} ${spec.tableName}${spec.netns ? ` in netns ${spec.netns}` : ""} on ${host.label}`);
    }
    if (spec.persistPath && (await host.removeFile(spec.persistPath))) log(`removed ${spec.persistPath}`);
  },
};
