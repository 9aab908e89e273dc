/**
 * The owned table: rule text built from the inputs, the rendered nft file (snapshots), and the
 * read-back normalizer fed with `nft -j` output captured from nftables 1.0.6 (Debian 12).
 */
import { buildChains, mergeRanges, portSetText } from "../../components/firewall/ruleset";
import { compareObserved } from "../../core/hostKind";
import { isManaged, kvmshareTables, normalizeTable, ownerOf, protectedPortsOf } from "../../components/firewall/nftJson";
import { kind, nftArgv, overlapProblems, removalScript, renderNftFile } from "../../components/firewall/shareFirewallKind";
import { resolveShareFirewall, ShareFirewallOptions } from "../../components/firewall/shareFirewallArgs";

const FULL: ShareFirewallOptions = {
  allowedSources: ["10.231.1.2", "fd31:1::/64"],
  allowedInterfaces: ["vnet*"],
  nfsV3: true,
  extraPorts: [{ port: 2050 }],
  logRatePerMinute: 10,
};

// `nft -j list table inet kvmshare` after loading renderNftFile(FULL), then by hand:
// `nft insert rule inet kvmshare shares ct state established accept` and
// `nft add set inet kvmshare extra '{ type ipv4_addr; }'` (captured 2026-11-25, nftables 1.0.6).
const LIVE = {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "kvmshare", "handle": 2}}, {"set": {"family": "inet", "name": "extra", "table": "kvmshare", "type": "ipv4_addr", "handle": 15}}, {"chain": {"family": "inet", "table": "kvmshare", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"chain": {"family": "inet", "table": "kvmshare", "name": "shares", "handle": 2}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "input", "handle": 4, "comment": "kvmshare", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [111, 445, {"range": [2049, 2050]}, 20048]}}}, {"jump": {"target": "shares"}}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "input", "handle": 6, "comment": "kvmshare", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"set": [111, 20048]}}}, {"jump": {"target": "shares"}}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 14, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "established"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 7, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 8, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "vnet*"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 9, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "10.231.1.2"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 10, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "fd31:1::", "len": 64}}}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 11, "expr": [{"limit": {"rate": 10, "burst": 5, "per": "minute"}}, {"log": {"prefix": "kvmshare refused: ", "level": "info"}}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 12, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"counter": {"packets": 0, "bytes": 0}}, {"reject": {"type": "tcp reset"}}]}}, {"rule": {"family": "inet", "table": "kvmshare", "chain": "shares", "handle": 13, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"reject": {"type": "icmpx", "expr": "port-unreachable"}}]}}]};

/** LIVE without the two hand edits, and with traffic on the counters (values must not matter). */
function pristine(): typeof LIVE {
  const doc = JSON.parse(JSON.stringify(LIVE));
  doc.nftables = doc.nftables.filter((x: { set?: unknown; rule?: { handle: number } }) => !x.set && x.rule?.handle !== 14);
  for (const x of doc.nftables) for (const e of x.rule?.expr ?? []) if (e.counter) e.counter = { packets: 42, bytes: 4242 };
  return doc;
}

describe("ports", () => {
  it("merges overlapping and adjacent ranges the way an nft interval set does", () => {
    expect(mergeRanges([[2050, 2050], [445, 445], [2049, 2049], [111, 111], [30000, 30010], [30005, 30020]])).toEqual([
      [111, 111],
      [445, 445],
      [2049, 2050],
      [30000, 30020],
    ]);
    expect(portSetText([[445, 445]])).toBe("445");
    expect(portSetText([[30000, 30010]])).toBe("30000-30010");
    expect(portSetText([[2049, 2049], [445, 445]])).toBe("{ 445, 2049 }");
  });
});

describe("rules", () => {
  it("protects 2049/tcp and 445/tcp by default, rejecting with a TCP reset and counting", () => {
    const chains = buildChains(resolveShareFirewall({ allowedSources: ["192.168.122.10"] }));
    expect(chains.input.rules).toEqual(['tcp dport { 445, 2049 } jump shares comment "kvmshare"']);
    expect(chains.shares.rules).toEqual([
      'iifname "lo" accept',
      "ip saddr 192.168.122.10 counter accept",
      "meta l4proto tcp counter reject with tcp reset",
      "counter reject",
    ]);
  });

  it("adds rpcbind and mountd over tcp and udp with nfsV3", () => {
    const chains = buildChains(resolveShareFirewall({ allowedSources: ["10.0.0.1"], services: ["nfs"], nfsV3: true, mountdPort: 892 }));
    expect(chains.input.rules).toEqual([
      'tcp dport { 111, 892, 2049 } jump shares comment "kvmshare"',
      'udp dport { 111, 892 } jump shares comment "kvmshare"',
    ]);
  });

  it("drops without counters, blocks loopback when asked, and with denyAll has no allow rule", () => {
    const chains = buildChains(resolveShareFirewall({ denyAll: true, action: "drop", counter: false, allowLoopback: false, services: ["smb"] }));
    expect(chains.input.rules).toEqual(['tcp dport 445 jump shares comment "kvmshare"']);
    expect(chains.shares.rules).toEqual(["drop"]);
  });

  it("orders sources canonically so a reordered export list is not a change", () => {
    const a = buildChains(resolveShareFirewall({ allowedSources: ["fd00::1", "10.0.0.9", "10.0.0.0/29"] }));
    const b = buildChains(resolveShareFirewall({ allowedSources: ["10.0.0.0/29", "fd00:0::1", "10.0.0.9", "10.0.0.9"] }));
    expect(a).toEqual(b);
  });
});

describe("rendered nft file", () => {
  it.each<[string, ShareFirewallOptions]>([
    ["default", { allowedSources: ["192.168.122.10"] }],
    ["full", FULL],
    ["denyAll drop in a named table", { denyAll: true, action: "drop", tableName: "lab", persist: false }],
  ])("%s", (_title, o) => {
    expect(renderNftFile(resolveShareFirewall(o))).toMatchSnapshot();
  });

  it("replaces only the owned table, in one transaction that works whether or not it exists", () => {
    const text = renderNftFile(resolveShareFirewall({ allowedSources: ["10.0.0.1"], tableName: "kvm_lab" }));
    const statements = text.split("\n").filter((l) => /^(table|delete|flush)/.test(l));
    expect(statements).toEqual(["table inet kvm_lab {}", "delete table inet kvm_lab", "table inet kvm_lab {"]);
    expect(text).not.toMatch(/flush ruleset/);
    expect(removalScript(resolveShareFirewall({ tableName: "kvm_lab" }))).toBe("table inet kvm_lab {}\ndelete table inet kvm_lab\n");
  });

  it("runs nft inside the namespace when netns is set", () => {
    expect(nftArgv(resolveShareFirewall({ netns: "lab" }), ["-c", "-f", "-"])).toEqual(["ip", "netns", "exec", "lab", "nft", "-c", "-f", "-"]);
    expect(nftArgv(resolveShareFirewall({}), ["-f", "-"])).toEqual(["nft", "-f", "-"]);
  });
});

describe("read-back", () => {
  const desired = kind.render(FULL, {});

  it("normalizes what nft printed to exactly the rules that were rendered (handles and counter values ignored)", () => {
    const live = normalizeTable(pristine(), "inet", "kvmshare");
    expect(live.chains).toEqual(desired.chains);
    expect(live.other).toEqual([]);
    expect(isManaged(live.chains)).toBe(true);
    expect(kind.compare!(desired, { ...desired, chains: live.chains, other: live.other })).toEqual([]);
  });

  it("reports a hand-added rule and a hand-added set as drift, naming the chain", () => {
    const live = normalizeTable(LIVE, "inet", "kvmshare");
    expect(live.chains.shares.rules[0]).toBe("ct state established accept");
    expect(live.other).toEqual(["set extra"]);
    expect(kind.compare!(desired, { ...desired, chains: live.chains, other: live.other })).toEqual(["chains.shares", "other"]);
  });

  it("reports a deleted rule, a missing table, an edited file and a foreign chain", () => {
    const doc = pristine();
    doc.nftables = doc.nftables.filter((x) => !("rule" in x) || (x as { rule: { handle: number } }).rule.handle !== 9);
    const live = normalizeTable(doc, "inet", "kvmshare");
    expect(kind.compare!(desired, { ...desired, chains: live.chains })).toEqual(["chains.shares"]);
    expect(kind.compare!(desired, { ...desired, chains: null })).toEqual(["table"]);
    expect(kind.compare!(desired, { ...desired, file: "edited" })).toEqual(["file"]);
    const extra = { ...desired.chains!, mine: { base: null, rules: ["tcp dport 9999 accept"] } };
    expect(kind.compare!(desired, { ...desired, chains: extra })).toEqual(["chains.mine"]);
    expect(compareObserved(kind, desired, undefined)).toEqual(["(absent on host)"]);
  });

  it("ignores other tables in the document and tells a table kvmshare did not make", () => {
    const doc = { nftables: [...pristine().nftables.map((x) => JSON.parse(JSON.stringify(x).split('"kvmshare"').join('"user"')))] };
    expect(normalizeTable(doc, "inet", "kvmshare").chains).toEqual({});
    expect(isManaged(normalizeTable({ nftables: [{ rule: { family: "inet", table: "t", chain: "c", expr: [{ accept: null }] } }] }, "inet", "t").chains)).toBe(false);
  });

  it("records which firewall owns the table in the marker comment, and reads it back", () => {
    const spec = resolveShareFirewall({ allowedSources: ["10.0.0.1"], owner: 'proj/dev/my "fw"' });
    expect(spec.owner).toBe("proj/dev/my__fw_");
    const chains = buildChains(spec);
    expect(chains.input.rules).toEqual(['tcp dport { 445, 2049 } jump shares comment "kvmshare:proj/dev/my__fw_"']);
    expect(ownerOf(chains)).toBe("proj/dev/my__fw_");
    expect(ownerOf(normalizeTable(pristine(), "inet", "kvmshare").chains)).toBe("");
    expect(ownerOf({ c: { base: null, rules: ['accept comment "mine"'] } })).toBeUndefined();
  });

  it("finds other kvmshare tables in a ruleset and the ports they protect", () => {
    const doc = { nftables: [...pristine().nftables, { table: { family: "inet", name: "user" } }, { chain: { family: "inet", table: "user", name: "input" } }] };
    expect(kvmshareTables(doc)).toEqual([{ table: "inet kvmshare", owner: "", ports: { tcp: [[111, 111], [445, 445], [2049, 2050], [20048, 20048]], udp: [[111, 111], [20048, 20048]] } }]);
    expect(protectedPortsOf(buildChains(resolveShareFirewall({ allowedSources: ["10.0.0.1"], services: ["smb"] })))).toEqual({ tcp: [[445, 445]] });
  });

  it("refuses a second table that protects one of the same ports (a client would need both to allow it)", () => {
    const other = (o: ShareFirewallOptions) => overlapProblems(resolveShareFirewall({ allowedSources: ["10.0.0.9"], tableName: "b", ...o }), pristine(), "local");
    expect(other({ services: [], extraPorts: [{ port: 9000 }] })).toEqual([]);
    const p = other({ services: ["smb"], extraPorts: [{ port: 2040, endPort: 2060 }] });
    expect(p).toHaveLength(1);
    expect(p[0].field).toBe("tableName");
    expect(p[0].message).toMatch(/table inet kvmshare on local .* already protects 445\/tcp, 2049-2050\/tcp; .*Declare one ShareFirewall per host/);
    // The table being replaced is not a conflict with itself.
    expect(overlapProblems(resolveShareFirewall({ allowedSources: ["10.0.0.9"] }), pristine(), "local")).toEqual([]);
  });

  it("projects the live allow-list onto the inputs so refresh --diff names it", () => {
    const live = normalizeTable(LIVE, "inet", "kvmshare");
    const doc = pristine();
    doc.nftables = doc.nftables.filter((x) => !("rule" in x) || (x as { rule: { handle: number } }).rule.handle !== 9);
    const without = normalizeTable(doc, "inet", "kvmshare");
    expect(kind.project!(FULL, { ...desired, chains: live.chains })).toEqual(FULL);
    expect(kind.project!(FULL, { ...desired, chains: without.chains }).allowedSources).toEqual(["fd31:1::/64"]);
  });
});
