/**
 * ShareFirewall against the real kernel: nftables inside network namespaces this test makes.
 *
 *   server netns: bridge br0 10.231.7.1/24 + fd31:7::1/64, one TCP listener on 445, 2049, 8080
 *   client A:     10.231.7.2 / fd31:7::2  (allowed)
 *   client B:     10.231.7.3 / fd31:7::3  (not allowed)
 *
 * The server netns also holds the user's own `table inet user`, which must come out of every
 * apply and destroy byte for byte the same (handles included).
 */
import { execFileSync, spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ShareFirewall, ShareFirewallArgs } from "../../components/firewall";
import { Engine } from "../harness/engine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...PROGRAMS.netns, "nft"], { root: true });

const id = `${process.pid % 100000}`;
const NS = { server: `ks-fw-${id}-s`, a: `ks-fw-${id}-a`, b: `ks-fw-${id}-b` };
const SERVER4 = "10.231.7.1";
const SERVER6 = "fd31:7::1";
const A = { v4: "10.231.7.2", v6: "fd31:7::2" };
const B = { v4: "10.231.7.3", v6: "fd31:7::3" };

function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}
const inNs = (ns: string, argv: string[], input?: string) => sh(["ip", "netns", "exec", ns, ...argv], input);
const nft = (args: string[], input?: string) => inNs(NS.server, ["nft", ...args], input);

const LISTENER = `
const net = require("net");
let n = 0;
for (const port of process.argv.slice(1).map(Number)) {
  net.createServer((s) => s.end("ok " + port + "\\n"))
    .listen({ port, host: "::", ipv6Only: false }, () => { if (++n === process.argv.length - 1) console.log("ready"); });
}`;

// Connect to each host:port; print {target: "ok" | "refused" | "timeout" | error code}.
const PROBE = `
const net = require("net");
const [timeout, ...targets] = process.argv.slice(1);
Promise.all(targets.map((t) => new Promise((done) => {
  const i = t.lastIndexOf(":");
  const s = net.connect({ host: t.slice(0, i), port: Number(t.slice(i + 1)) });
  const end = (r) => { s.destroy(); done([t, r]); };
  s.setTimeout(Number(timeout), () => end("timeout"));
  s.on("data", (d) => end(String(d).startsWith("ok") ? "ok" : "garbled"));
  s.on("error", (e) => end(e.code === "ECONNREFUSED" ? "refused" : e.code));
}))).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));`;

/** What each target gave from inside the client namespace. */
// A connection that is let through or refused answers at once; the timeout only costs time where a
// drop is expected (those probes pass a short one), so it is generous for a loaded CI machine.
function probe(client: string, targets: string[], timeoutMs = 3000): Record<string, string> {
  return JSON.parse(inNs(client, [process.execPath, "-e", PROBE, String(timeoutMs), ...targets]));
}
const t4 = (port: number) => `${SERVER4}:${port}`;
const t6 = (port: number) => `${SERVER6}:${port}`;

const USER_TABLE = `table inet user {
  set blocked { type ipv4_addr; elements = { 192.0.2.1 } }
  chain in {
    type filter hook input priority -5; policy accept;
    ip saddr @blocked drop
    tcp dport 8080 counter accept
  }
}
`;
/** The user's table as nft prints it, with handles and without counter values. */
const userTable = () => nft(["-a", "-s", "list", "table", "inet", "user"]);

function ruleHandle(chain: string, match: RegExp): number {
  const doc = JSON.parse(nft(["-a", "-j", "list", "chain", "inet", "kvmshare", chain]));
  const rules = doc.nftables.filter((x: { rule?: unknown }) => x.rule).map((x: { rule: { handle: number; expr: unknown } }) => x.rule);
  const r = rules.find((x: { expr: unknown }) => match.test(JSON.stringify(x.expr)));
  if (!r) throw new Error(`no rule matching ${match} in chain ${chain}`);
  return r.handle;
}

function counterOf(chain: string, match: RegExp): number {
  const doc = JSON.parse(nft(["-j", "list", "chain", "inet", "kvmshare", chain]));
  const rule = doc.nftables.map((x: { rule?: { expr: { counter?: { packets: number } }[] } }) => x.rule).find((r: { expr: unknown } | undefined) => r && match.test(JSON.stringify(r.expr)));
  return rule.expr.find((e: { counter?: unknown }) => e.counter).counter.packets;
}

const tableExists = () => {
  try {
    nft(["list", "table", "inet", "kvmshare"]);
    return true;
  } catch {
    return false;
  }
};

jest.setTimeout(30_000);

describe("ShareFirewall: nftables in network namespaces", () => {
  let dir: string;
  let persistPath: string;
  let engine: Engine;
  let listener: ChildProcess | undefined;
  let userBefore: string;

  const program = (args: Partial<ShareFirewallArgs> = {}) => () => {
    new ShareFirewall("fw", { netns: NS.server, persistPath, allowedSources: [A.v4, A.v6], ...args });
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-fw-"));
    persistPath = path.join(dir, "nftables.d", "kvmshare.nft");
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
    for (const ns of Object.values(NS)) sh(["ip", "netns", "add", ns]);
    const s = NS.server;
    sh(["ip", "-n", s, "link", "set", "lo", "up"]);
    sh(["ip", "-n", s, "link", "add", "br0", "type", "bridge"]);
    sh(["ip", "-n", s, "addr", "add", `${SERVER4}/24`, "dev", "br0"]);
    sh(["ip", "-n", s, "addr", "add", `${SERVER6}/64`, "dev", "br0", "nodad"]);
    sh(["ip", "-n", s, "link", "set", "br0", "up"]);
    for (const [ns, addr, port] of [
      [NS.a, A, "pa"],
      [NS.b, B, "pb"],
    ] as const) {
      sh(["ip", "-n", s, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      sh(["ip", "-n", s, "link", "set", port, "master", "br0", "up"]);
      sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
      sh(["ip", "-n", ns, "addr", "add", `${addr.v4}/24`, "dev", "eth0"]);
      sh(["ip", "-n", ns, "addr", "add", `${addr.v6}/64`, "dev", "eth0", "nodad"]);
      sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    }
    nft(["-f", "-"], USER_TABLE);
    userBefore = userTable();
    listener = spawn("ip", ["netns", "exec", s, process.execPath, "-e", LISTENER, "445", "2049", "8080"], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("listener did not start")), 10_000);
      listener!.stdout!.on("data", (d) => String(d).includes("ready") && (clearTimeout(timer), resolve()));
      listener!.on("exit", (code) => reject(new Error(`listener exited ${code}`)));
    });
    // Sanity: before any firewall, both clients reach everything (v4 and v6).
    expect(probe(NS.b, [t4(445), t4(2049), t6(445)])).toEqual({ [t4(445)]: "ok", [t4(2049)]: "ok", [t6(445)]: "ok" });
  }, 30_000);

  afterAll(() => {
    if (listener?.pid) {
      try {
        process.kill(listener.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    for (const ns of Object.values(NS)) {
      try {
        sh(["ip", "netns", "del", ns]);
      } catch {
        /* not created */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lets the allowed client reach NFS and SMB, refuses the other, leaves other ports open", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => c.op)).toEqual(["create"]);
    expect(probe(NS.a, [t4(445), t4(2049), t6(445), t6(2049)])).toEqual({
      [t4(445)]: "ok",
      [t4(2049)]: "ok",
      [t6(445)]: "ok",
      [t6(2049)]: "ok",
    });
    expect(probe(NS.b, [t4(445), t4(2049), t6(445), t4(8080)])).toEqual({
      [t4(445)]: "refused",
      [t4(2049)]: "refused",
      [t6(445)]: "refused",
      [t4(8080)]: "ok",
    });
    // The reject rule counted B's attempts.
    expect(counterOf("shares", /"tcp reset"/)).toBeGreaterThanOrEqual(3);
    expect(r.outputs["fw-nftables"].table).toBe("inet kvmshare");
  });

  it("writes a persistence file that nft accepts, and leaves the user's own table untouched", async () => {
    const file = fs.readFileSync(persistPath, "utf8");
    expect(file).toContain("table inet kvmshare {");
    expect(file).toContain(`ip saddr ${A.v4} counter accept`);
    // Loading the persisted file again is a valid, idempotent transaction (what a reboot does).
    nft(["-c", "-f", persistPath]);
    expect(userTable()).toBe(userBefore);
    const second = await engine.up(program());
    expect(second.errors).toEqual([]);
    expect(second.changes).toEqual([]);
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.filter((c) => c.op !== "refresh")).toEqual([]);
  });

  it("a second stack declaring the same table is refused; the first stack's rules stay", async () => {
    const before = nft(["-s", "list", "table", "inet", "kvmshare"]);
    const other = new Engine({ stateFile: path.join(dir, "other-state.json"), stack: "other" });
    const r = await other.up(program({ allowedSources: [B.v4] }));
    expect(r.errors.join("\n")).toMatch(/tableName: table inet kvmshare on local belongs to another ShareFirewall \('kvmshare-test\/test\/fw'\).*give this one its own tableName/);
    expect(nft(["-s", "list", "table", "inet", "kvmshare"])).toBe(before);
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "refused" });
    expect(other.state()).toEqual([]);
    // Its own table for other ports is fine; one that also protects 445 would lock out A.
    const own = (args: Partial<ShareFirewallArgs>) =>
      program({ tableName: "kvmshare_other", persistPath: path.join(dir, "other.nft"), allowedSources: [B.v4], services: [], ...args });
    expect((await other.up(own({ extraPorts: [{ port: 9000 }] }))).errors).toEqual([]);
    const overlap = await other.up(own({ services: ["smb"], extraPorts: [{ port: 9000 }] }));
    expect(overlap.errors.join("\n")).toMatch(/table inet kvmshare on local \(ShareFirewall 'kvmshare-test\/test\/fw'\) already protects 445\/tcp; .*Declare one ShareFirewall per host/);
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    expect((await other.destroy()).errors).toEqual([]);
    expect(() => nft(["list", "table", "inet", "kvmshare_other"])).toThrow();
  });

  it("a rule deleted by hand is reported after refresh and restored by up", async () => {
    nft(["delete", "rule", "inet", "kvmshare", "shares", "handle", String(ruleHandle("shares", /"10\.231\.7\.2"/))]);
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "refused" });
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    const update = p.changes.find((c) => c.op === "update");
    expect(update?.diffs).toEqual(expect.arrayContaining(["observed.chains.shares"]));
    expect(update?.diffs).not.toContain("observed.chains.input");
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "refused" }); // preview changed nothing
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => c.op)).toEqual(["update"]);
    expect(probe(NS.a, [t4(445), t4(2049)])).toEqual({ [t4(445)]: "ok", [t4(2049)]: "ok" });
    const again = await engine.preview(program(), { refresh: true });
    expect(again.changes.filter((c) => c.op !== "refresh")).toEqual([]);
  });

  it("a rule changed by hand (A's allow turned into B's) is drift, undone by up", async () => {
    const handle = ruleHandle("shares", /"10\.231\.7\.2"/);
    nft(["replace", "rule", "inet", "kvmshare", "shares", "handle", String(handle), "ip", "saddr", B.v4, "counter", "accept"]);
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "refused" });
    const p = await engine.preview(program(), { refresh: true });
    expect(p.changes.find((c) => c.op === "update")?.diffs).toEqual(expect.arrayContaining(["observed.chains.shares"]));
    expect((engine.state()[0].inputs.spec as { allowedSources: string[] }).allowedSources).toEqual([B.v4, A.v6]);
    expect((await engine.up(program())).errors).toEqual([]);
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "refused" });
  });

  it("a rule added by hand and an edited persistence file are drift too, undone by up", async () => {
    nft(["insert", "rule", "inet", "kvmshare", "shares", "ip", "saddr", B.v4, "accept"]);
    fs.appendFileSync(persistPath, "# edited by hand\n");
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    const p = await engine.preview(program(), { refresh: true });
    expect(p.changes.find((c) => c.op === "update")?.diffs).toEqual(expect.arrayContaining(["observed.chains.shares", "observed.file"]));
    // Refresh projects the live allow-list onto the inputs, so `preview --refresh --diff` names it.
    const spec = engine.state()[0].inputs.spec as { allowedSources: string[] };
    expect(spec.allowedSources).toEqual([B.v4, A.v4, A.v6]);
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "refused" });
    expect(fs.readFileSync(persistPath, "utf8")).not.toContain("edited by hand");
    expect(userTable()).toBe(userBefore);
  });

  it("drop makes the other client time out; an interface allow-list admits both; logging is rate-limited", async () => {
    const drop = await engine.up(program({ action: "drop", logRatePerMinute: 6 }));
    expect(drop.errors).toEqual([]);
    expect(probe(NS.b, [t4(445), t6(2049)], 800)).toEqual({ [t4(445)]: "timeout", [t6(2049)]: "timeout" });
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    expect(counterOf("shares", /"drop"/)).toBeGreaterThanOrEqual(2);
    expect(nft(["list", "chain", "inet", "kvmshare", "shares"])).toMatch(/limit rate 6\/minute log prefix "kvmshare refused: " level info/);

    const byIface = await engine.up(program({ allowedSources: [], allowedInterfaces: ["br0"] }));
    expect(byIface.errors).toEqual([]);
    expect(probe(NS.a, [t4(445)])).toEqual({ [t4(445)]: "ok" });
    expect(probe(NS.b, [t4(445), t6(2049)])).toEqual({ [t4(445)]: "ok", [t6(2049)]: "ok" });
    // ...and back to the address allow-list.
    expect((await engine.up(program())).errors).toEqual([]);
    expect(probe(NS.b, [t4(445)])).toEqual({ [t4(445)]: "refused" });
  });

  it("destroy removes only kvmshare's table: both clients connect, the user's table is untouched", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(tableExists()).toBe(false);
    expect(fs.existsSync(persistPath)).toBe(false);
    expect(probe(NS.a, [t4(445), t4(2049)])).toEqual({ [t4(445)]: "ok", [t4(2049)]: "ok" });
    expect(probe(NS.b, [t4(445), t4(2049), t6(445)])).toEqual({ [t4(445)]: "ok", [t4(2049)]: "ok", [t6(445)]: "ok" });
    expect(userTable()).toBe(userBefore);
  });

  it("invalid inputs fail at preview naming the field, the value and the fix, before the host changes", async () => {
    const p = await engine.preview(program({ allowedSources: ["10.231.7.5/24", "nas.example"], extraPorts: [{ port: 70000 }] }));
    const text = p.errors.join("\n");
    expect(text).toMatch(/allowedSources\[0\]: has host bits set; did you mean '10\.231\.7\.0\/24'.*got '10\.231\.7\.5\/24'/);
    expect(text).toMatch(/allowedSources\[1\]: must be an IPv4\/IPv6 address .*host names are not resolved.*got 'nas\.example'/);
    expect(text).toMatch(/extraPorts\[0\]\.port: must be an integer from 1 to 65535 \(got 70000\)/);
    const empty = await engine.up(program({ allowedSources: [] }));
    expect(empty.errors.join("\n")).toMatch(/allowedSources: is empty .*set denyAll: true/);
    // A list that is an output is only known to the provider's check: same messages there.
    const late = await engine.up(program({ allowedSources: pulumi.output(["10.231.7.0/33"]) }));
    expect(late.errors.join("\n")).toMatch(/allowedSources\[0\]: has an invalid prefix length '\/33'/);
    expect(tableExists()).toBe(false);
    expect(fs.existsSync(persistPath)).toBe(false);
  });

  it("refuses to take over a table of the same name that kvmshare did not create, and names a missing netns", async () => {
    nft(["-f", "-"], "table inet kvmshare {\n  chain mine {\n    tcp dport 9999 accept\n  }\n}\n");
    try {
      const p = await engine.up(program());
      expect(p.errors.join("\n")).toMatch(/tableName: table inet kvmshare already exists .* was not created by kvmshare/);
      expect(nft(["list", "table", "inet", "kvmshare"])).toContain("tcp dport 9999 accept");
    } finally {
      nft(["delete", "table", "inet", "kvmshare"]);
    }
    const missing = await engine.preview(program({ netns: `ks-fw-${id}-missing` }));
    expect(missing.errors.join("\n")).toMatch(/netns: cannot enter this network namespace/);
    expect(engine.state()).toEqual([]);
  });

  it("a namespace deleted under the firewall: refresh sees the table gone, preview names the netns, destroy still succeeds", async () => {
    const ns = `ks-fw-${id}-gone`;
    const file = path.join(dir, "gone", "kvmshare.nft");
    const other = new Engine({ stateFile: path.join(dir, "gone-state.json") });
    const prog = () => {
      new ShareFirewall("gone", { netns: ns, persistPath: file, denyAll: true });
    };
    sh(["ip", "netns", "add", ns]);
    try {
      expect((await other.up(prog)).errors).toEqual([]);
      expect(inNs(ns, ["nft", "list", "table", "inet", "kvmshare"])).toMatch(/drop|reject/);
    } finally {
      sh(["ip", "netns", "del", ns]);
    }
    const r = await other.refresh();
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => c.op)).toEqual(["refresh"]);
    expect((other.state()[0].outputs.observed as { chains: unknown }).chains).toBeNull();
    // preview names the missing namespace (nothing can be applied there) ...
    const p = await other.preview(prog);
    expect(p.errors.join("\n")).toMatch(/netns: cannot enter this network namespace/);
    // ... and destroy still cleans up what is left (the persistence file).
    const d = await other.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
    expect(other.state()).toEqual([]);
  });
});
