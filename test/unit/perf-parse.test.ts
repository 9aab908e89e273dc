/** fio job builder and JSON parser, /proc/stat CPU arithmetic, ping summary parser. */
import * as fs from "fs";
import * as path from "path";
import { busyPercent, parseProcStat } from "../../perf/cpu";
import { buildFioArgs, fioPath, FIO_DEFAULTS, validateFioOptions } from "../../perf/fioJob";
import { FioParseError, latencyAt, parseFioJson, percentileKey } from "../../perf/fioParse";
import { buildPingArgs, parsePing, validateLossOptions } from "../../perf/ping";

const fixture = fs.readFileSync(path.join(__dirname, "perf-fixtures", "fio-3.33-randrw.json"), "utf8");

describe("fio job", () => {
  it("runs a 70/30 random mix with small defaults and JSON output", () => {
    const argv = buildFioArgs(undefined, "/srv/share/.kvmshare-perf.abc", [50, 99]);
    expect(argv).toEqual([
      "fio",
      "--name=kvmshare-perf",
      "--directory=/srv/share/.kvmshare-perf.abc",
      "--rw=randrw",
      "--rwmixread=70",
      "--bs=4096",
      "--iodepth=16",
      "--numjobs=1",
      "--size=268435456",
      "--runtime=10",
      "--time_based",
      "--ioengine=libaio",
      "--direct=1",
      "--group_reporting",
      "--percentile_list=50:99",
      "--eta=never",
      "--output-format=json",
    ]);
    expect(FIO_DEFAULTS.readPercent).toBe(70);
  });

  it("passes every option through, and adds a ramp time only when asked", () => {
    const argv = buildFioArgs(
      { readPercent: 50, blockSize: "64k", ioDepth: 4, jobs: 3, runtimeSec: 2, rampSec: 1, sizePerJob: "32M", ioEngine: "psync", direct: false },
      "/d",
      [99.9, 50, 99.9],
    );
    expect(argv).toEqual(
      expect.arrayContaining(["--rwmixread=50", "--bs=65536", "--iodepth=4", "--numjobs=3", "--runtime=2", "--ramp_time=1", "--size=33554432", "--ioengine=psync", "--direct=0", "--percentile_list=50:99.9"]),
    );
  });

  it("lays the files out in a separate run, so that is not measured", () => {
    const layout = buildFioArgs(undefined, "/d", [99], true);
    expect(layout).toContain("--create_only=1");
    expect(buildFioArgs(undefined, "/d", [99])).not.toContain("--create_only=1");
  });

  it("escapes ':' in paths, which fio would read as a file separator", () => {
    expect(fioPath("/mnt/a:b\\c")).toBe("/mnt/a\\:b\\\\c");
    expect(buildFioArgs({}, "/mnt/x:y", [99])).toContain("--directory=/mnt/x\\:y");
  });

  it.each([
    [{ readPercent: 101 }, "fio.readPercent", /integer from 0 to 100/],
    [{ ioDepth: 0 }, "fio.ioDepth", /integer from 1/],
    [{ jobs: 1.5 }, "fio.jobs", /integer from 1/],
    [{ runtimeSec: 0 }, "fio.runtimeSec", /integer from 1/],
    [{ blockSize: "4x" }, "fio.blockSize", /size string like '4k'/],
    [{ blockSize: "1000" }, "fio.blockSize", /multiple of 512/],
    [{ sizePerJob: "10K" }, "fio.sizePerJob", /at least 1048576 bytes/],
    [{ ioEngine: "spdk" }, "fio.ioEngine", /one of libaio, io_uring, psync/],
    [{ direct: "yes" }, "fio.direct", /true or false/],
    [{ filename: "/dev/sda" }, "fio.filename", /not a fio option kvmshare sets/],
    [{ blockSize: "1M", sizePerJob: "1M", jobs: 1, ioDepth: 1, readPercent: 0, runtimeSec: 1, rampSec: 0, ioEngine: "sync", direct: true, extra: 1 }, "fio.extra", /not a fio option/],
  ])("rejects %j naming %s", (o, field, message) => {
    const problems = validateFioOptions(o as never);
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0].message).toMatch(message);
  });

  it("rejects a block larger than the file", () => {
    expect(validateFioOptions({ blockSize: "2M", sizePerJob: "1M" })[0]).toMatchObject({ field: "fio.blockSize", value: "2M" });
  });
});

describe("fio JSON", () => {
  it("reads IOPS, bandwidth and clat percentiles (ns -> ms) of fio 3.33", () => {
    const r = parseFioJson(fixture);
    expect(r.fioVersion).toBe("fio-3.33");
    expect(r.read.iops).toBeCloseTo(9652.67, 1);
    expect(r.write.iops).toBeCloseTo(4108.45, 1);
    expect(r.iops).toBeCloseTo(13761.12, 1);
    expect(r.read.bwBytesPerSec).toBe(39537351);
    expect(r.read.clatPercentilesMs).toEqual({ "50": 0.183296, "95": 4.17792, "99": 27.656192 });
    expect(r.write.clatPercentilesMs["99"]).toBeCloseTo(29.4912, 4);
    expect(r.read.clatMeanMs).toBeCloseTo(1.0025, 3);
    expect(r.runtimeMs).toBe(2000);
  });

  it("takes the worst direction at a percentile", () => {
    const r = parseFioJson(fixture);
    expect(latencyAt(r, 99)).toBeCloseTo(29.4912, 4);
    expect(latencyAt(r, 50)).toBeCloseTo(0.232448, 6);
    expect(latencyAt(r, 99.9)).toBeUndefined();
  });

  it("skips warnings fio prints before the JSON", () => {
    expect(parseFioJson("fio: ioengines.c:  note: something\n" + fixture).iops).toBeCloseTo(13761.12, 1);
  });

  it("reads fio 2.x microsecond latencies and KiB/s bandwidth", () => {
    const old = JSON.stringify({
      "fio version": "fio-2.2.10",
      jobs: [{ jobname: "j", error: 0, read: { iops: 100, bw: 400, io_bytes: 1, total_ios: 10, runtime: 1000, clat: { mean: 1500, percentile: { "99.000000": 2000 } } }, write: { iops: 0, bw: 0, total_ios: 0 } }],
    });
    const r = parseFioJson(old);
    expect(r.read.bwBytesPerSec).toBe(400 * 1024);
    expect(r.read.clatPercentilesMs["99"]).toBe(2);
    expect(r.read.clatMeanMs).toBe(1.5);
    expect(latencyAt(r, 99)).toBe(2);
  });

  it("sums throughput and keeps the worst latency over several job entries", () => {
    const doc = JSON.parse(fixture);
    doc.jobs.push(JSON.parse(JSON.stringify(doc.jobs[0])));
    doc.jobs[1].write.clat_ns.percentile["99.000000"] = 50_000_000;
    const r = parseFioJson(JSON.stringify(doc));
    expect(r.iops).toBeCloseTo(2 * 13761.12, 0);
    expect(latencyAt(r, 99)).toBe(50);
  });

  it.each([
    ["", /printed no JSON report: \(empty output\)/],
    ["fio: failed to open /x: Permission denied", /printed no JSON report: fio: failed/],
    ["{ not json", /malformed/],
    [JSON.stringify({ jobs: [] }), /has no jobs/],
    [JSON.stringify({ jobs: [{ jobname: "kvmshare-perf", error: 22 }] }), /job 'kvmshare-perf' failed with error 22/],
  ])("rejects %j", (text, message) => {
    expect(() => parseFioJson(text)).toThrow(FioParseError);
    expect(() => parseFioJson(text)).toThrow(message);
  });

  it("normalizes percentile keys", () => {
    expect(percentileKey("99.900000")).toBe("99.9");
    expect(percentileKey(99)).toBe("99");
  });
});

describe("/proc/stat", () => {
  const a = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1\n";
  const b = "cpu  160 0 80 860 100 0 0 0 0 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n";

  it("reads the aggregate line; iowait counts as idle", () => {
    expect(parseProcStat(a)).toEqual({ total: 1000, idle: 850 });
  });

  it("computes busy percent between samples", () => {
    // +60 user +30 system +60 idle +50 iowait = 200 jiffies, 90 busy
    expect(busyPercent(parseProcStat(a), parseProcStat(b))).toBeCloseTo(45, 5);
    expect(busyPercent(parseProcStat(a), parseProcStat(a))).toBe(0);
  });

  it("does not count guest time twice", () => {
    const g1 = parseProcStat("cpu  100 0 0 100 0 0 0 0 100 0\n");
    expect(g1.total).toBe(200);
  });

  it("fails clearly off Linux", () => {
    expect(() => parseProcStat("nothing here")).toThrow(/no aggregate 'cpu' line/);
  });

  it("reads this machine's real /proc/stat", () => {
    const t = parseProcStat(fs.readFileSync("/proc/stat", "utf8"));
    expect(t.total).toBeGreaterThan(t.idle);
  });
});

describe("ping", () => {
  it("sends exactly count requests (no -w deadline, which would keep sending)", () => {
    expect(buildPingArgs({ target: "10.0.0.2", count: 50, intervalMs: 10, waitSec: 1 })).toEqual(["ping", "-n", "-q", "-c", "50", "-i", "0.01", "-W", "1", "10.0.0.2"]);
    expect(buildPingArgs({ target: "guest" })).toEqual(["ping", "-n", "-q", "-c", "100", "-i", "0.2", "-W", "2", "guest"]);
  });

  it("parses a healthy run", () => {
    const out = "--- 10.77.0.2 ping statistics ---\n50 packets transmitted, 50 received, 0% packet loss, time 793ms\nrtt min/avg/max/mdev = 0.027/0.052/0.295/0.034 ms\n";
    expect(parsePing(out)).toEqual({ transmitted: 50, received: 50, lossPercent: 0, rttMinMs: 0.027, rttAvgMs: 0.052, rttMaxMs: 0.295 });
  });

  it("computes loss from the counts, not ping's rounded percent", () => {
    const out = "1000 packets transmitted, 999 received, 0.1% packet loss, time 9ms\nrtt min/avg/max/mdev = 0.030/235.617/1021.102/333.383 ms, pipe 29\n";
    expect(parsePing(out).lossPercent).toBeCloseTo(0.1, 10);
    expect(parsePing("3 packets transmitted, 2 received, +1 duplicates, 33.3333% packet loss").lossPercent).toBeCloseTo(33.333, 2);
  });

  it("keeps send errors and a note when the path failed mid-run", () => {
    const r = parsePing("10 packets transmitted, 4 received, +6 errors, 60% packet loss, time 9ms\n", "ping: sendmsg: No buffer space available\n");
    expect(r).toMatchObject({ transmitted: 10, received: 4, errors: 6, lossPercent: 60, note: "No buffer space available" });
  });

  it("reports 100 % loss when nothing came back or nothing could be sent", () => {
    expect(parsePing("20 packets transmitted, 0 received, 100% packet loss, time 1885ms\n").lossPercent).toBe(100);
    expect(parsePing("", "ping: connect: Network is unreachable\n")).toEqual({ transmitted: 0, received: 0, lossPercent: 100, note: "nothing could be sent: Network is unreachable" });
  });

  it("throws on a name that does not resolve (a config error, not loss)", () => {
    expect(() => parsePing("", "ping: nosuchhost: Name or service not known\n")).toThrow(/ping failed: ping: nosuchhost: Name or service not known/);
  });

  it.each([
    [{ target: "" }, "loss.target", /is required/],
    [{ target: "10.0.0.0/24" }, "loss.target", /IP address or a host name \(no CIDR/],
    [{ target: "-f" }, "loss.target", /IP address or a host name/],
    [{ target: "h", count: 0 }, "loss.count", /integer from 1/],
    [{ target: "h", intervalMs: 1 }, "loss.intervalMs", /integer from 2/],
  ])("rejects %j naming %s", (o, field, message) => {
    const p = validateLossOptions(o);
    expect(p.map((x) => x.field)).toEqual([field]);
    expect(p[0].message).toMatch(message);
  });
});
