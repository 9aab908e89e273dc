/**
 * SharePerformanceCheck over SSH (a real sshd on 127.0.0.1 with its own config and keys,
 * killed by PID): fio, /proc/stat sampling and ping run on the remote side, into a directory
 * whose name has a space and a ':' (shell quoting, fio's file separator).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SharePerformanceCheck } from "../../components/perf";
import { SshConnectionSpec } from "../../core/connection";
import { testEngine, TestEngine } from "../harness/testEngine";
import { Sshd, startSshd } from "../fixtures/sshd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...PROGRAMS.sshd, ...PROGRAMS.netns, "fio", "ping"], { root: true });

jest.setTimeout(120_000);

describe("SharePerformanceCheck over SSH", () => {
  let dir: string;
  let sshd: Sshd;
  let spec: SshConnectionSpec;
  let engine: TestEngine;
  let share: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-perfssh-"));
    fs.chmodSync(dir, 0o700);
    sshd = await startSshd(dir);
    spec = sshd.spec;
    share = path.join(dir, "my share:1");
    fs.mkdirSync(share);
    engine = testEngine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    if (engine) await engine.destroy();
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("measures on the remote host and writes the report there", async () => {
    const reportPath = path.join(dir, "reports", "remote.json");
    const r = await engine.up(() => {
      new SharePerformanceCheck("remote", {
        connection: spec,
        path: share,
        fio: { runtimeSec: 2, sizePerJob: "16M" },
        thresholds: { minIops: 10, maxLossPercent: 0 },
        loss: { target: "127.0.0.1", count: 10, intervalMs: 20, waitSec: 1 },
        reportPath,
        cpuSampleMs: 500,
      });
    });
    expect(r.errors).toEqual([]);
    const out = r.outputs["remote-run"];
    expect(out.passed).toBe(true);
    expect(out.iops as number).toBeGreaterThan(10);
    expect(out.lossPercent).toBe(0);
    const report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
    expect(report.host).toBe(`root@127.0.0.1:${spec.port}`);
    expect(report.path).toBe(share);
    expect(report.measured.cpuPercent).toBeGreaterThan(0);
    // The state never holds the private key in plain text (the backend has the resource, the key only as ciphertext).
    const stored = engine.storedText();
    expect(stored).toContain("remote-run");
    expect(stored).not.toContain("PRIVATE KEY");
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it("a directory missing on the remote host fails up, naming the host and the fix", async () => {
    const r = await engine.up(() => {
      new SharePerformanceCheck("remote-missing", {
        connection: spec,
        path: path.join(dir, "absent"),
        reportPath: path.join(dir, "reports", "missing.json"),
      });
    });
    expect(r.errors.join("\n")).toMatch(new RegExp(`path: is not a directory on root@127\\.0\\.0\\.1:${spec.port}: mount the share or create the dataset first`));
  });
});
