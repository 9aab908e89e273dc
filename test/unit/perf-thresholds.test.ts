/** Thresholds: presets, validation messages (field, value, fix), and misses with the numbers. */
import { evaluate, resolveThresholds, THRESHOLD_PRESETS, validateThresholds } from "../../perf/thresholds";

describe("threshold presets", () => {
  it("documents the brief's reference figures as the 'reference' preset", () => {
    expect(THRESHOLD_PRESETS.reference).toEqual({ minIops: 12000, maxLatencyMs: 15, latencyPercentile: 99, maxCpuPercent: 65, maxLossPercent: 0.1 });
  });

  it("splits the reference into per-protocol presets (IOPS for NFS, latency for SMB)", () => {
    expect(THRESHOLD_PRESETS["reference-nfs"]).toEqual({ minIops: 12000, maxCpuPercent: 65, maxLossPercent: 0.1 });
    expect(THRESHOLD_PRESETS["reference-smb"]).toEqual({ maxLatencyMs: 15, latencyPercentile: 99, maxCpuPercent: 65, maxLossPercent: 0.1 });
  });

  it("lets explicit fields override the preset", () => {
    expect(resolveThresholds({ preset: "reference", minIops: 5000, latencyPercentile: 99.9 })).toEqual({
      preset: "reference",
      minIops: 5000,
      maxLatencyMs: 15,
      latencyPercentile: 99.9,
      maxCpuPercent: 65,
      maxLossPercent: 0.1,
    });
  });

  it("switches a preset's limit off with null", () => {
    expect(resolveThresholds({ preset: "reference", maxLossPercent: null, maxCpuPercent: null })).toEqual({
      preset: "reference",
      minIops: 12000,
      maxLatencyMs: 15,
      latencyPercentile: 99,
    });
  });

  it("defaults the latency percentile to p99 and sets nothing else", () => {
    expect(resolveThresholds(undefined)).toEqual({ latencyPercentile: 99 });
    expect(resolveThresholds({ maxCpuPercent: 80 })).toEqual({ latencyPercentile: 99, maxCpuPercent: 80 });
  });

  it("cannot be changed by a caller", () => {
    expect(() => {
      (THRESHOLD_PRESETS.reference as { minIops: number }).minIops = 1;
    }).toThrow();
  });
});

describe("validateThresholds", () => {
  it.each([
    [{ minIops: 0 }, "thresholds.minIops", /positive number of IOPS/],
    [{ minIops: -12000 }, "thresholds.minIops", /positive number of IOPS/],
    [{ minIops: "12000" }, "thresholds.minIops", /positive number of IOPS/],
    [{ maxLatencyMs: 0 }, "thresholds.maxLatencyMs", /positive number of milliseconds/],
    [{ latencyPercentile: 100 }, "thresholds.latencyPercentile", /above 0 and below 100/],
    [{ latencyPercentile: 0 }, "thresholds.latencyPercentile", /above 0 and below 100/],
    [{ latencyPercentile: null }, "thresholds.latencyPercentile", /above 0 and below 100/],
    [{ maxCpuPercent: 150 }, "thresholds.maxCpuPercent", /at most 100/],
    [{ maxCpuPercent: 0 }, "thresholds.maxCpuPercent", /above 0/],
    [{ maxLossPercent: -0.1 }, "thresholds.maxLossPercent", /from 0 to 100/],
    [{ maxLossPercent: 101 }, "thresholds.maxLossPercent", /from 0 to 100/],
    [{ maxLossPercent: Number.NaN }, "thresholds.maxLossPercent", /from 0 to 100/],
    [{ preset: "fastest" }, "thresholds.preset", /one of reference, reference-nfs, reference-smb/],
    [{ minIOPS: 5 }, "thresholds.minIOPS", /is not a threshold; use one of .*minIops/],
  ])("rejects %j naming %s", (t, field, message) => {
    const problems = validateThresholds(t as never, "thresholds.", true);
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe(field);
    expect(problems[0].message).toMatch(message);
    expect(problems[0].value).toEqual(Object.values(t)[0]);
  });

  it("accepts the boundaries: 0 % loss, 100 % CPU, p99.99", () => {
    expect(validateThresholds({ maxLossPercent: 0, maxCpuPercent: 100, latencyPercentile: 99.99, minIops: 0.5 }, "t.", true)).toEqual([]);
  });

  it("lists every problem at once", () => {
    const problems = validateThresholds({ minIops: -1, maxCpuPercent: 200, maxLossPercent: 300 }, "thresholds.", true);
    expect(problems.map((p) => p.field)).toEqual(["thresholds.minIops", "thresholds.maxCpuPercent", "thresholds.maxLossPercent"]);
  });

  it("asks for a ping target when a loss limit is set without one (also via a preset)", () => {
    const direct = validateThresholds({ maxLossPercent: 0.1 }, "thresholds.", false);
    expect(direct[0]).toMatchObject({ field: "thresholds.maxLossPercent", value: 0.1 });
    expect(direct[0].message).toMatch(/set loss.target .*or remove this limit/);
    const viaPreset = validateThresholds({ preset: "reference" }, "thresholds.", false);
    expect(viaPreset[0].message).toMatch(/or set maxLossPercent: null to not check the preset's loss limit/);
    expect(validateThresholds({ preset: "reference", maxLossPercent: null }, "thresholds.", false)).toEqual([]);
    expect(validateThresholds({ minIops: 10 }, "thresholds.", false)).toEqual([]);
  });
});

describe("evaluate", () => {
  const t = resolveThresholds({ preset: "reference" });

  it("passes figures within every limit", () => {
    expect(evaluate({ iops: 20000, latencyMs: 3, cpuPercent: 40, lossPercent: 0 }, t)).toEqual([]);
  });

  it("names each missed threshold and by how much", () => {
    const misses = evaluate({ iops: 9000, latencyMs: 18.5, cpuPercent: 80, lossPercent: 1 }, t);
    expect(misses.map((m) => m.threshold)).toEqual(["minIops", "maxLatencyMs", "maxCpuPercent", "maxLossPercent"]);
    expect(misses[0]).toMatchObject({ limit: 12000, measured: 9000, by: 3000, byPercent: 25 });
    expect(misses[0].message).toBe("minIops: IOPS 9,000 is 3,000 IOPS (25 % of the limit) below the minimum 12,000");
    expect(misses[1].message).toBe("maxLatencyMs: p99 latency 18.5 ms is 3.5 ms (23.3 % of the limit) above the maximum 15 ms");
    expect(misses[2].message).toBe("maxCpuPercent: CPU 80 % is 15 percentage points (23.1 % of the limit) above the maximum 65 %");
    expect(misses[3]).toMatchObject({ limit: 0.1, measured: 1, by: 0.9 });
  });

  it("treats a limit exactly met as passed", () => {
    expect(evaluate({ iops: 12000, latencyMs: 15, cpuPercent: 65, lossPercent: 0.1 }, t)).toEqual([]);
  });

  it("counts an unmeasured latency or loss as a miss, not a pass", () => {
    const misses = evaluate({ iops: 20000 }, t);
    expect(misses.map((m) => [m.threshold, m.measured])).toEqual([
      ["maxLatencyMs", null],
      ["maxLossPercent", null],
    ]);
    expect(misses[1].message).toMatch(/not measured/);
  });

  it("a 0 % loss limit is missed by any loss, without a relative figure", () => {
    const [m] = evaluate({ iops: 1, lossPercent: 1 }, resolveThresholds({ maxLossPercent: 0 }));
    expect(m).toMatchObject({ threshold: "maxLossPercent", by: 1 });
    expect(m.byPercent).toBeUndefined();
  });
});
