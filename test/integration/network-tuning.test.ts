/**
 * NetworkTuning on real kernels objects, inside network namespaces this test creates: sysctls,
 * BBR, MTU/jumbo frames, ethtool, drift of each kind, and removal putting things back.
 * Everything goes through the in-process engine (up / preview --refresh / destroy).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NetworkTuning, NetworkTuningArgs } from "../../components/network";
import { Engine } from "../harness/engine";
import { createVethPair, deleteVethPair, netnsExists, nsRun, sh, VethPair } from "../fixtures/netns";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...PROGRAMS.netns, "ethtool", "ping", "systemd-analyze"], { root: true });

jest.setTimeout(60_000);

let pair: VethPair;
let dir: string;
let n = 0;

/** A fresh engine (own state file) per scenario. */
function engine(): Engine {
  return new Engine({ stateFile: path.join(dir, `state-${++n}.json`) });
}

function tuning(name: string, args: NetworkTuningArgs) {
  return () => {
    new NetworkTuning(name, { stateDir: path.join(dir, "state"), ...args });
  };
}

const sysctlIn = (ns: string, key: string) => nsRun(ns, ["sysctl", "-n", key]).trim().split(/\s+/).join(" ");
const mtuOf = (ns: string, dev: string) => (JSON.parse(nsRun(ns, ["ip", "-j", "link", "show", "dev", dev]))[0] as { mtu: number }).mtu;
const rootQdisc = (ns: string, dev: string) =>
  (JSON.parse(nsRun(ns, ["tc", "-j", "qdisc", "show", "dev", dev])) as { kind: string; root?: boolean }[]).find((q) => q.root)?.kind;
const feature = (ns: string, dev: string, name: string) =>
  new RegExp(`^${name}: (on|off)`, "m").exec(nsRun(ns, ["ethtool", "-k", dev]))?.[1];
const updateDiffs = (r: { changes: { op: string; name: string; diffs: string[] }[] }) =>
  r.changes.filter((s) => s.op === "update").flatMap((s) => s.diffs);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-net-"));
  pair = createVethPair("net", 231);
});

afterAll(() => {
  deleteVethPair(pair);
  expect(netnsExists(pair.nsA) || netnsExists(pair.nsB)).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("sysctl profile in a network namespace", () => {
  it("applies the values, reads them back inside the namespace, selects BBR, leaves the host's alone", async () => {
    const hostSomaxconn = sh(["sysctl", "-n", "net.core.somaxconn"]).trim();
    const before = sysctlIn(pair.nsA, "net.core.somaxconn");
    const e = engine();
    const sysDir = path.join(dir, "sysctl.d");
    const program = tuning("tune", {
      netns: pair.nsA,
      sysctl: {
        dir: sysDir,
        tcpCongestionControl: "bbr",
        somaxconn: 8191,
        tcpRmem: [4096, 262144, 16777216],
        tcpWmem: [4096, 65536, 16777216],
        tcpWindowScaling: true,
        extra: { "net.ipv4.tcp_mtu_probing": 1 },
      },
    });
    const r = await e.up(program);
    expect(r.errors).toEqual([]);
    expect(sysctlIn(pair.nsA, "net.ipv4.tcp_congestion_control")).toBe("bbr");
    expect(sysctlIn(pair.nsA, "net.core.somaxconn")).toBe("8191");
    expect(sysctlIn(pair.nsA, "net.ipv4.tcp_rmem")).toBe("4096 262144 16777216");
    expect(sysctlIn(pair.nsA, "net.ipv4.tcp_wmem")).toBe("4096 65536 16777216");
    expect(sysctlIn(pair.nsA, "net.ipv4.tcp_mtu_probing")).toBe("1");
    expect(sh(["sysctl", "-n", "net.core.somaxconn"]).trim()).toBe(hostSomaxconn);
    const file = fs.readFileSync(path.join(sysDir, "90-kvmshare-tune.conf"), "utf8");
    expect(file).toContain("net.ipv4.tcp_congestion_control = bbr\n");
    expect(file).toContain("net.ipv4.tcp_rmem = 4096 262144 16777216\n");
    expect(r.outputs["tune-sysctl"].values).toMatchObject({ "net.core.somaxconn": "8191", "net.ipv4.tcp_congestion_control": "bbr" });

    // A new TCP connection inside the namespace really uses BBR.
    const ss = nsRun(pair.nsA, ["sh", "-c", 'nc -l -p 5999 >/dev/null & sleep 0.3; (sleep 1 | nc -q 1 127.0.0.1 5999 &) ; sleep 0.5; ss -tni dst 127.0.0.1:5999; kill %1 2>/dev/null; wait']);
    expect(ss).toMatch(/\bbbr\b/);

    // Drift: a hand `sysctl -w` is reported after refresh, naming the key, and undone by up.
    nsRun(pair.nsA, ["sysctl", "-q", "-w", "net.core.somaxconn=1024"]);
    const p = await e.preview(program, { refresh: true });
    expect(p.errors).toEqual([]);
    expect(updateDiffs(p)).toContain("observed.values.net.core.somaxconn");
    expect(sysctlIn(pair.nsA, "net.core.somaxconn")).toBe("1024"); // preview changed nothing
    const fixed = await e.up(program);
    expect(fixed.errors).toEqual([]);
    expect(sysctlIn(pair.nsA, "net.core.somaxconn")).toBe("8191");

    // Destroy removes the file and puts the values found before back.
    const d = await e.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(sysDir, "90-kvmshare-tune.conf"))).toBe(false);
    expect(sysctlIn(pair.nsA, "net.core.somaxconn")).toBe(before);
  });

  it("reports a key the kernel did not take (net.core.rmem_max in a namespace) with key, wanted and got, and keeps nothing", async () => {
    const before = sysctlIn(pair.nsA, "net.core.somaxconn");
    const got = sysctlIn(pair.nsA, "net.core.rmem_max");
    const e = engine();
    const sysDir = path.join(dir, "sysctl-bad.d");
    const r = await e.up(tuning("bad", { netns: pair.nsA, sysctl: { dir: sysDir, somaxconn: 4000, rmemMax: 33554432 } }));
    const msg = r.errors.join("\n");
    expect(msg).toContain(`net.core.rmem_max (sysctl.rmemMax): wanted '33554432', got '${got}'`);
    expect(msg).toMatch(/global, not per network namespace/);
    expect(fs.existsSync(path.join(sysDir, "90-kvmshare-bad.conf"))).toBe(false);
    const stateDir = path.join(dir, "state");
    expect(fs.existsSync(stateDir) ? fs.readdirSync(stateDir).filter((f) => f.includes("90-kvmshare-bad")) : []).toEqual([]);
    expect(sysctlIn(pair.nsA, "net.core.somaxconn")).toBe(before);
  });

  it("a key that does not exist in the namespace fails at preview, naming the field", async () => {
    const p = await engine().preview(tuning("nokey", { netns: pair.nsA, sysctl: { dir: path.join(dir, "x"), netdevMaxBacklog: 5000 } }));
    expect(p.errors.join("\n")).toMatch(/sysctl\.netdevMaxBacklog: no such sysctl on local, netns ks-net-a-\d+ .*got 'net\.core\.netdev_max_backlog'/);
    const gone = await engine().preview(tuning("nons", { netns: `${pair.nsA}-missing`, device: pair.devA, mtu: 9000 }));
    expect(gone.errors.join("\n")).toContain(`netns: no such network namespace on local (create it first, e.g. 'ip netns add ${pair.nsA}-missing'`);
  });
});

describe("MTU", () => {
  it("9000 on both ends lets an 8972-byte ping with DF set through; drift is reported and put back; destroy restores 1500", async () => {
    const ping = () => nsRun(pair.nsA, ["ping", "-M", "do", "-s", "8972", "-c", "2", "-i", "0.2", "-W", "2", pair.ipB], { allowFail: true });
    expect(ping()).not.toMatch(/ 0% packet loss/); // 1500 now: too big with DF
    const e = engine();
    const program = () => {
      tuning("jumbo-a", { netns: pair.nsA, device: pair.devA, mtu: 9000 })();
      tuning("jumbo-b", { netns: pair.nsB, device: pair.devB, mtu: 9000 })();
    };
    const r = await e.up(program);
    expect(r.errors).toEqual([]);
    expect([mtuOf(pair.nsA, pair.devA), mtuOf(pair.nsB, pair.devB)]).toEqual([9000, 9000]);
    expect(r.outputs["jumbo-a-mtu"].mtu).toBe(9000);
    expect(ping()).toMatch(/ 0% packet loss/);

    sh(["ip", "-n", pair.nsB, "link", "set", "dev", pair.devB, "mtu", "1500"]);
    const p = await e.preview(program, { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => [s.name, s.diffs])).toEqual([["jumbo-b-mtu", ["observed.mtu"]]]);
    expect((await e.up(program)).errors).toEqual([]);
    expect(mtuOf(pair.nsB, pair.devB)).toBe(9000);

    expect((await e.destroy()).errors).toEqual([]);
    expect([mtuOf(pair.nsA, pair.devA), mtuOf(pair.nsB, pair.devB)]).toEqual([1500, 1500]);
  });

  it("an MTU above the device's max_mtu fails at preview with the limit, before anything changes", async () => {
    const max = (JSON.parse(nsRun(pair.nsA, ["ip", "-j", "-d", "link", "show", "dev", pair.devA]))[0] as { max_mtu: number }).max_mtu;
    expect(max).toBe(65535); // veth's limit
    const e = engine();
    // veth's max_mtu is Ethernet's 65535, so validation already refuses 65536 (the device's own,
    // lower max_mtu of other drivers is checked in preflight: see test/unit/hostile-validators).
    const p = await e.up(tuning("toobig", { netns: pair.nsA, device: pair.devA, mtu: max + 1 }));
    expect(p.errors.join("\n")).toContain(`mtu: must be an integer from 68 to ${max} (1500 is standard Ethernet, 9000 jumbo frames; every hop must agree; the device's max_mtu is checked on the host) (got ${max + 1})`);
    expect(mtuOf(pair.nsA, pair.devA)).toBe(1500);
  });
});

describe("ethtool on veth", () => {
  it("applies -K offloads and -L channels, reads them back, reports drift and restores them on destroy", async () => {
    const gro0 = feature(pair.nsA, pair.devA, "generic-receive-offload");
    const tso0 = feature(pair.nsA, pair.devA, "tcp-segmentation-offload");
    const e = engine();
    const program = tuning("eth", {
      netns: pair.nsA,
      device: pair.devA,
      ethtool: { offloads: { gro: gro0 !== "on", tso: tso0 !== "on" }, channels: { rx: 2, tx: 2 } },
    });
    const r = await e.up(program);
    expect(r.errors).toEqual([]);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0 === "on" ? "off" : "on");
    expect(feature(pair.nsA, pair.devA, "tcp-segmentation-offload")).toBe(tso0 === "on" ? "off" : "on");
    expect(nsRun(pair.nsA, ["ethtool", "-l", pair.devA])).toMatch(/Current hardware settings:\s*\nRX:\s+2\s*\nTX:\s+2/);

    nsRun(pair.nsA, ["ethtool", "-K", pair.devA, "gro", gro0 as string]);
    const p = await e.preview(program, { refresh: true });
    expect(updateDiffs(p)).toEqual(["observed.offloads.generic-receive-offload"]);
    expect((await e.up(program)).errors).toEqual([]);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0 === "on" ? "off" : "on");

    expect((await e.destroy()).errors).toEqual([]);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0);
    expect(feature(pair.nsA, pair.devA, "tcp-segmentation-offload")).toBe(tso0);
  });

  it("reports -G and -C as unsupported on veth, naming the device, before anything changes", async () => {
    const gro0 = feature(pair.nsA, pair.devA, "generic-receive-offload");
    const e = engine();
    const args: NetworkTuningArgs = {
      netns: pair.nsA,
      device: pair.devA,
      ethtool: { offloads: { gro: gro0 !== "on" }, rings: { rx: 512 }, coalesce: { rxUsecs: 50 } },
    };
    const p = await e.up(tuning("rings", args));
    const msg = p.errors.join("\n");
    expect(msg).toContain(`ethtool.rings: 'ethtool -G' (rings) is not supported by the driver of ${pair.devA} (local, netns ${pair.nsA})`);
    expect(msg).toContain(`ethtool.coalesce: 'ethtool -C' (coalesce) is not supported by the driver of ${pair.devA}`);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0);

    // failOnUnsupported: false applies the rest, and what the driver cannot do is not drift.
    const lenient = tuning("rings", { ...args, ethtool: { ...args.ethtool, failOnUnsupported: false } });
    const r = await e.up(lenient);
    expect(r.errors).toEqual([]);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0 === "on" ? "off" : "on");
    const again = await e.preview(lenient, { refresh: true });
    expect(again.errors).toEqual([]);
    expect(updateDiffs(again)).toEqual([]);
    expect((await e.destroy()).errors).toEqual([]);
    expect(feature(pair.nsA, pair.devA, "generic-receive-offload")).toBe(gro0);
  });
});

describe("boot unit", () => {
  it("writes a unit systemd-analyze accepts, re-applying MTU, ethtool, tc and the namespace's sysctls", async () => {
    const unitDir = path.join(dir, "units");
    fs.mkdirSync(unitDir);
    const e = engine();
    const program = tuning("boot", {
      netns: pair.nsA,
      device: pair.devA,
      sysctl: { dir: path.join(dir, "boot-sysctl.d"), somaxconn: 2048 },
      mtu: 4000,
      ethtool: { offloads: { gro: true } },
      shaping: { kind: "tbf", rateMbit: 500 },
      bootUnit: { dir: unitDir, enable: false },
    });
    const r = await e.up(program);
    expect(r.errors).toEqual([]);
    const second = await e.up(program);
    expect(second.errors).toEqual([]);
    expect(second.changes).toEqual([]); // every kind reads back exactly what it rendered
    const unit = fs.readFileSync(path.join(unitDir, "kvmshare-net-boot.service"), "utf8");
    expect(unit).toContain(`ExecStart=ip netns exec ${pair.nsA} ip link set dev ${pair.devA} mtu 4000\n`);
    expect(unit).toContain(`ExecStart=ip netns exec ${pair.nsA} sysctl -q -p ${path.join(dir, "boot-sysctl.d")}/90-kvmshare-boot.conf\n`);
    expect(unit).toContain(`ExecStart=ip netns exec ${pair.nsA} tc qdisc replace dev ${pair.devA} root handle 1: tbf rate 500000kbit burst 640000 latency 50ms\n`);
    expect(unit).toContain(`ExecStart=ip netns exec ${pair.nsA} ethtool -K ${pair.devA} generic-receive-offload on\n`);
    sh(["systemd-analyze", "verify", path.join(unitDir, "kvmshare-net-boot.service")]);

    // What the unit runs really re-creates the runtime state: wipe it, run its ExecStart lines.
    sh(["ip", "-n", pair.nsA, "link", "set", "dev", pair.devA, "mtu", "1500"]);
    nsRun(pair.nsA, ["tc", "qdisc", "del", "dev", pair.devA, "root"]);
    for (const line of unit.split("\n").filter((l) => l.startsWith("ExecStart="))) {
      sh(line.slice("ExecStart=".length).replace(/^-/, "").split(" "));
    }
    const p = await e.preview(program, { refresh: true });
    expect(p.errors).toEqual([]);
    expect(updateDiffs(p)).toEqual([]);
    expect((await e.destroy()).errors).toEqual([]);
    expect(fs.existsSync(path.join(unitDir, "kvmshare-net-boot.service"))).toBe(false);
    expect(mtuOf(pair.nsA, pair.devA)).toBe(1500);
    expect(rootQdisc(pair.nsA, pair.devA)).toBe("noqueue");
  });
});
