/**
 * Packet loss measured against a veth peer in network namespaces this test creates (and
 * deletes): 0 % when healthy, reported when the peer's egress is throttled with tbf, and 100 %
 * when the link is down. The check runs "on a host" inside the first namespace: a LocalHost
 * whose commands go through `ip netns exec`.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost, RunOptions, RunResult } from "../../core/connection";
import { formatTable, measureLoss, runPerfCheck, toPrometheus } from "../../perf";
import { createVethPair, deleteVethPair, VethPair } from "../fixtures/netns";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

jest.setTimeout(120_000);

/** This machine, but every command runs inside network namespace `ns`. */
class NetnsHost extends LocalHost {
  constructor(private readonly ns: string) {
    super();
  }
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return super.run(["ip", "netns", "exec", this.ns, ...argv], opts);
  }
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
const tc = (ns: string, ...args: string[]) => execFileSync("ip", ["netns", "exec", ns, "tc", ...args], { stdio: "pipe" });

const describe = requirePrograms([...PROGRAMS.netns, "ping", "fio"], { root: true });

describe("packet loss to a veth peer in a test namespace", () => {
  let pair: VethPair | undefined;
  let nsA: string, nsB: string, devA: string, devB: string, peer: string;
  let host: NetnsHost;
  let dir: string;

  beforeAll(() => {
    pair = createVethPair("perf", 233);
    ({ nsA, nsB, devA, devB, ipB: peer } = pair);
    host = new NetnsHost(nsA);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-perfloss-"));
  });

  afterAll(() => {
    deleteVethPair(pair); // deleting a namespace deletes its veth end, and so the pair
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A full check through namespace A with a 0.1 % loss limit. */
  const lossCheck = (name: string) =>
    runPerfCheck(host, {
      name,
      path: dir,
      fio: { runtimeSec: 2, sizePerJob: "16M" },
      thresholds: { maxLossPercent: 0.1 },
      loss: { target: peer, count: 150, intervalMs: 10, waitSec: 1 },
    });

  it("is 0 % over a healthy link", async () => {
    const r = await measureLoss(host, { target: peer, count: 100, intervalMs: 10, waitSec: 1 });
    expect(r).toMatchObject({ target: peer, transmitted: 100, received: 100, lossPercent: 0 });
    expect(r.rttAvgMs).toBeGreaterThan(0);
  });

  it("a full check over the healthy link meets a 0.1 % loss limit", async () => {
    const report = await lossCheck("netns-healthy");
    expect(report.measured.lossPercent).toBe(0);
    expect(report.measured.ping).toMatchObject({ transmitted: 150, received: 150 });
    expect(report.passed).toBe(true);
  });

  describe("with the peer's egress throttled by tbf to 8 kbit/s", () => {
    beforeAll(() => tc(nsB, "qdisc", "add", "dev", devB, "root", "tbf", "rate", "8kbit", "burst", "1600", "limit", "1600"));
    afterAll(() => tc(nsB, "qdisc", "del", "dev", devB, "root"));

    it("loss is measured", async () => {
      const r = await measureLoss(host, { target: peer, count: 100, intervalMs: 10, waitSec: 1 });
      expect(r.transmitted).toBe(100);
      expect(r.received).toBeLessThan(100);
      expect(r.lossPercent).toBeCloseTo(100 - r.received, 10);
    });

    it("a check reports the missed loss limit with the numbers, in the table and the .prom file", async () => {
      const report = await lossCheck("netns-tbf");
      expect(report.passed).toBe(false);
      const [miss] = report.misses;
      expect(miss).toMatchObject({ threshold: "maxLossPercent", limit: 0.1, measured: report.measured.lossPercent });
      expect(miss.by).toBeCloseTo((report.measured.lossPercent as number) - 0.1, 3);
      expect(miss.message).toMatch(/^maxLossPercent: packet loss [\d.]+ % is [\d.]+ percentage points .* above the maximum 0.1 %$/);
      const table = formatTable(report);
      expect(table).toMatch(new RegExp(`packet loss to ${peer.replace(/\./g, "\\.")}\\s+[\\d.]+ % \\(\\d+/150\\)\\s+<= 0.1 %\\s+MISSED by [\\d.]+ points`));
      expect(table).toMatch(/result: FAILED, 1 threshold missed/);
      expect(toPrometheus(report)).toMatch(new RegExp(`^kvmshare_perf_packet_loss_ratio\\{.*target="${peer.replace(/\./g, "\\.")}"\\} 0\\.\\d+$`, "m"));
    });
  });

  it("is 100 % when the peer's link is down", async () => {
    ip("-n", nsB, "link", "set", devB, "down");
    try {
      const r = await measureLoss(host, { target: peer, count: 20, intervalMs: 10, waitSec: 1 });
      expect(r).toMatchObject({ transmitted: 20, received: 0, lossPercent: 100 });
    } finally {
      ip("-n", nsB, "link", "set", devB, "up");
    }
  });

  it("is 100 % with a note when the local link is down and nothing can be sent", async () => {
    ip("-n", nsA, "link", "set", devA, "down");
    try {
      const r = await measureLoss(host, { target: peer, count: 5, intervalMs: 10, waitSec: 1 });
      expect(r).toMatchObject({ transmitted: 0, lossPercent: 100 });
      expect(r.note).toMatch(/nothing could be sent: Network is unreachable/);
    } finally {
      ip("-n", nsA, "link", "set", devA, "up");
    }
  });
});
