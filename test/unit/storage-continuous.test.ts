/**
 * Near-continuous replication (ZfsReplication `interval`): the interval's forms and bounds, what
 * it cannot be combined with, the loop service and script (snapshot + shell syntax + hostile
 * paths reaching the script only through quoting), the state file and the lag reasons that
 * become drift, and the component's `schedule` output under mocks.
 */
import { spawnSync } from "child_process";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { continuousSchedule, intervalSeconds, lagProblems, parseContinuousState, renderContinuous } from "../../components/protection/continuousReplication";
import { planSyncoidReplication } from "../../components/protection/syncoidReplication";
import { kind } from "../../components/protection/syncoidReplicationKind";
import { resolveZfsReplication, validateReplicationSpec } from "../../components/protection/zfsReplicationArgs";
import { formatProblem } from "../../core/errors";
import { mockPulumi, resolved } from "./mocks";
import { register as registerFailover } from "../../cli/failover";
import { runCli } from "../fixtures/cli";

const base = { source: "tank/vm", target: "backup/vm", scheduler: "syncoid" as const };
const problems = (args: object) => validateReplicationSpec(resolveZfsReplication("r", { ...base, ...args })).map(formatProblem);

describe("interval: seconds or a systemd time span, 5 s to a day", () => {
  it.each([
    [10, 10],
    ["10s", 10],
    ["1min 30s", 90],
    ["2m", 120],
    ["1h", 3600],
    ["90 sec", 90],
  ])("%j is %d s", (v, s) => {
    expect(intervalSeconds(v)).toBe(s);
    expect(problems({ interval: v })).toEqual([]);
  });

  it.each([
    [4, "interval: must be whole seconds from 5 to 86400 (a day); it is 4 s. Longer intervals: intervalMinutes (a calendar timer) (got 4)"],
    [86_401, "it is 86401 s"],
    [7.5, "it is 7.5 s"],
    ["2d", "interval: must be a number of seconds or a systemd time span with units s, min, h (e.g. 10, \"10s\", \"1min 30s\") (got '2d')"],
    ["ten seconds", "must be a number of seconds or a systemd time span"],
    ["10s; rm -rf /", "must be a number of seconds or a systemd time span"],
    [Number.NaN, "must be a number of seconds or a systemd time span"],
  ])("refuses %j, naming the bounds", (v, msg) => {
    const p = problems({ interval: v });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(msg);
  });

  it("refuses what it cannot be combined with, every problem named", () => {
    expect(validateReplicationSpec(resolveZfsReplication("r", { source: "tank/vm", target: "backup/vm", interval: 10 })).map(formatProblem)).toEqual([
      "interval: needs scheduler: 'syncoid' (a loop service on the source host replicates every interval; scheduler 'up' replicates only when you deploy) (got 10)",
    ]);
    expect(problems({ interval: 10, intervalMinutes: 15, backupWindow: { onlineHours: 8, workloadWeight: 0.5 }, stateDir: "state", textfileDir: "/a/../b" })).toEqual([
      "intervalMinutes: cannot be combined with interval: set one of them (interval in seconds for a loop service, intervalMinutes for a calendar timer) (got 15)",
      "backupWindow: cannot be combined with interval: near-continuous replication runs all day (use intervalMinutes for a window) (got 'set')",
      "textfileDir: must be normalized, without '..', '.' or empty segments (did you mean '/b'?) (got '/a/../b')",
      "stateDir: must be an absolute path (start with '/') (got 'state')",
    ]);
  });

  it("leaves the calendar timer's spec as it was (no new keys without interval)", () => {
    expect(Object.keys(resolveZfsReplication("r", { ...base, intervalMinutes: 15 }))).not.toEqual(expect.arrayContaining(["stateDir"]));
    expect(resolveZfsReplication("r", { ...base, interval: "10s" })).toMatchObject({ interval: "10s", stateDir: "/var/lib/kvmshare/replication", textfileDir: "/var/lib/prometheus/node-exporter" });
  });
});

describe("the loop service and its script", () => {
  const plan = planSyncoidReplication(resolveZfsReplication("near", { ...base, interval: "10s" }));

  it("promises 2 x interval, as the schedule output says", () => {
    expect(plan.schedule).toEqual(continuousSchedule(10));
    expect(plan.schedule).toMatchObject({ intervalSeconds: 10, rpoSeconds: 20, runsPerDay: 8640, windowHours: null });
  });

  it("renders a long-running service (no timer) and the script", () => {
    expect(plan.timer).toBe("kvmshare-syncoid-near.service");
    expect(Object.keys(plan.files)).toEqual(["/etc/systemd/system/kvmshare-syncoid-near.service", "/usr/local/lib/kvmshare/kvmshare-replicate-near.sh"]);
    for (const [p, text] of Object.entries(plan.files)) expect(text).toMatchSnapshot(p);
    const script = plan.continuous!.script;
    expect(script).toContain("/usr/sbin/syncoid --identifier=near --no-rollback tank/vm backup/vm");
    expect(script).toContain("zfs set readonly=on backup/vm");
    expect(script).toMatch(/flock -n 9/);
    expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
  });

  it("hostile directories reach the script only as quoted words: sh reads them back unchanged", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\/[a-z'"$`\\ ;&|()*?!{}\[\]-]{1,20}$/), (dir) => {
        const p = validateReplicationSpec(resolveZfsReplication("near", { ...base, interval: 10, stateDir: dir, textfileDir: dir }));
        if (p.length) return;
        const f = renderContinuous({ name: "near", source: "tank/vm", target: "backup/vm", localTarget: "backup/vm", interval: 10, syncoid: ["true"], post: null, stateDir: dir, textfileDir: dir });
        const head = f.script.split("\n").filter((l) => /^(STATE|LOCK|TEXTFILE)=/.test(l)).join("\n");
        const r = spawnSync("sh", ["-c", `${head}\nprintf '%s\\n' "$STATE" "$LOCK" "$TEXTFILE"`], { encoding: "utf8" });
        expect(r.stdout).toBe(`${f.statePath}\n${f.lockPath}\n${f.textfilePath}\n`);
      }),
      { numRuns: 60 },
    );
  });
});

describe("lag: the loop's state file and the reasons that become drift", () => {
  const good = parseContinuousState("last_success=1000\nlast_run_end=1001\nlast_exit=0\nlast_run_ms=800\nlag_bytes=4096\nlag_method=written\nlast_error=\nruns=5\nfailures=0\n");

  it("parses the state file", () => {
    expect(good).toEqual({ lastSuccess: 1000, lastRunEnd: 1001, lastExit: 0, lastRunSec: 0.8, lagBytes: 4096, lagMethod: "written", lastError: "", runs: 5, failures: 0 });
    expect(parseContinuousState("")).toMatchObject({ runs: 0, lagBytes: -1 });
  });

  it("keeps the promise within 2 x interval; names each way of falling behind", () => {
    expect(lagProblems(good, 10, 1020)).toEqual([]);
    expect(lagProblems(good, 10, 1021)).toEqual(["the newest replicated data is 21 s old, more than the promised RPO of 20 s"]);
    expect(lagProblems({ ...good, lastExit: 1, lastError: "CRITICAL ERROR: ... out of space" }, 10, 1005)).toEqual(["the last run failed (exit 1): CRITICAL ERROR: ... out of space"]);
    expect(lagProblems({ ...good, lastRunSec: 12.5 }, 10, 1005)).toEqual(["the last run took 12.5 s, longer than the interval of 10 s (falling behind)"]);
    expect(lagProblems({ ...good, lastSuccess: 0, failures: 5, lastExit: 255, lastError: "Permission denied (publickey)." }, 10, 1005)).toEqual([
      "no run has succeeded yet (5 failed)",
      "the last run failed (exit 255): Permission denied (publickey).",
    ]);
    expect(lagProblems(parseContinuousState(""), 10, 99999)).toEqual([]);
  });

  it("the kind's compare reports lag as drift, with both sides readable", () => {
    const spec = resolveZfsReplication("near", { ...base, interval: 10 });
    const desired = kind.render(spec, {});
    expect(desired.lag).toBe("keeps RPO 20 s");
    expect(kind.compare!(desired, { ...desired })).toEqual([]);
    expect(kind.compare!(desired, { ...desired, lag: "the last run failed (exit 1): x" })).toEqual(["lag"]);
  });
});

describe("the component under mocks", () => {
  const m = mockPulumi({ preview: true });

  it("states the promised RPO in `schedule` and the log", async () => {
    const { ZfsReplication } = await import("../../components/protection");
    const info = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
    const r = new ZfsReplication("near", { ...base, interval: "15s" });
    expect(await resolved(r.schedule)).toMatchObject({ intervalSeconds: 15, rpoSeconds: 30 });
    expect(info).toHaveBeenCalledWith("ZfsReplication near: near-continuous, a run every 15 s; RPO 30 s while runs finish within the interval", expect.anything());
    await new Promise((res) => setTimeout(res, 50)); // let the resource register before the test ends
    expect(m.byName("near-syncoid").type).toBe("pulumi-nodejs:dynamic/kvmshare:SyncoidReplication");
    info.mockRestore();
    expect(() => new ZfsReplication("bad", { ...base, interval: 1 })).toThrow(/interval: must be whole seconds from 5 to 86400/);
  }, 30_000); // the first import of the protection area takes seconds on a loaded 2-core machine
});

describe("kvmshare failover: input refused before anything runs (exit 2)", () => {
  const cli = (...args: string[]) => runCli(registerFailover, "failover", ...args);

  it("names each bad argument", async () => {
    let r = await cli("promote", "backup/share;rm -rf /");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kvmshare failover: 1 invalid input:\n {2}- <replica>: .*\(got 'backup\/share;rm -rf \/'\)/);
    r = await cli("resync", "backup/share", "../tank", "--target-host", "old1");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<old-source>: /);
    expect(r.err).toMatch(/--target-key: is required with --target-host/);
    expect(r.err).toMatch(/--target-host-key: is required with --target-host/);
  });

  it("--host (the replica's host over SSH) needs a key file and the host key, named with the flag", async () => {
    let r = await cli("promote", "backup/share", "--host", "replica1");
    expect(r.code).toBe(2);
    expect(r.err).toBe("kvmshare failover: 2 invalid inputs:\n  - --key: is required with --host (a private key file)\n  - --host-key: is required with --host (SHA256:... as ssh-keygen -l prints it)\n");
    r = await cli("resync", "backup/share", "tank/share", "--host", "replica1", "--key", "/nonexistent/key", "--host-key", "SHA256:x", "--target-host", "old1");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--key: no such file \(got '\/nonexistent\/key'\)/);
    expect(r.err).toMatch(/--target-key: is required with --target-host/);
    expect(r.err).not.toMatch(/--host-key/);
  });
});
