/** The /proc/stat CPU sampler on this machine, with a real busy process to see. */
import { ChildProcess, spawn } from "child_process";
import * as os from "os";
import { LocalHost } from "../../core/connection";
import { CpuSampler } from "../../perf/cpu";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("CpuSampler", () => {
  let busy: ChildProcess | undefined;
  afterEach(() => {
    if (busy?.pid) process.kill(busy.pid, "SIGKILL");
    busy = undefined;
  });

  it("samples at its interval and keeps 0 <= average <= peak <= 100", async () => {
    const s = await CpuSampler.start(new LocalHost(), 200);
    await sleep(1300);
    const u = await s.stop();
    expect(u.intervals).toBeGreaterThanOrEqual(4);
    expect(u.intervals).toBeLessThanOrEqual(8);
    expect(u.avgPercent).toBeGreaterThanOrEqual(0);
    expect(u.peakPercent).toBeGreaterThanOrEqual(u.avgPercent - 1e-9);
    expect(u.peakPercent).toBeLessThanOrEqual(100);
  });

  it("sees a process spinning on one core (at least its share of all cores)", async () => {
    busy = spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" });
    await sleep(200);
    const s = await CpuSampler.start(new LocalHost(), 250);
    await sleep(1500);
    const u = await s.stop();
    const cores = os.cpus().length;
    // One busy core of `cores`, minus scheduling slack; other work on the machine only adds.
    expect(u.avgPercent).toBeGreaterThan((100 / cores) * 0.7);
  });
});
