/**
 * Storage: the capacity plan C = 1.2 x (Dpeak + Davg x T) + S, snapshot retention decisions, and
 * the components under Pulumi mocks (children, resolved defaults, secrets, preview warnings).
 */
import * as pulumi from "@pulumi/pulumi";
import { capacityWarning, requiredBytes, usableBytes, validateCapacityPlan } from "../../components/storage/capacity";
import { formatProblem } from "../../core/errors";
import { dueReasons, ownSnapshots, toPrune } from "../../components/protection/zfsSnapshotPolicyKind";
import { ZfsSnapshotPolicySpec } from "../../components/protection/zfsSnapshotPolicyArgs";
import { SnapshotInfo } from "../../components/storage/zfsCli";
import { mockPulumi } from "./mocks";

const GiB = 1024 ** 3;

describe("capacity plan", () => {
  it("computes C = 1.2 x (Dpeak + Davg x T) + S", () => {
    // 1.2 x (50 + 20 x 30) + 100 = 880 GiB
    expect(requiredBytes({ peakDailyGiB: 50, avgDailyGiB: 20, retentionDays: 30, snapshotReserveGiB: 100 })).toBe(880 * GiB);
    expect(requiredBytes({ peakDailyGiB: 10, avgDailyGiB: 0, retentionDays: 0 })).toBe(12 * GiB);
  });

  it("warns with the formula and the shortfall when the pool is smaller", () => {
    const w = capacityWarning("pool tank", { peakDailyGiB: 50, avgDailyGiB: 20, retentionDays: 30, snapshotReserveGiB: 100 }, 500 * GiB);
    expect(w).toBe(
      "pool tank: 500.00 GiB is smaller than the capacity plan C = 1.2 x (Dpeak 50 + Davg 20 x T 30) + S 100 = 880.00 GiB (short by 380.00 GiB); add devices or shorten retentionDays",
    );
    expect(capacityWarning("pool tank", { peakDailyGiB: 1, avgDailyGiB: 1, retentionDays: 1 }, 3 * GiB)).toBeUndefined();
    expect(capacityWarning("pool tank", { peakDailyGiB: 1, avgDailyGiB: 1, retentionDays: 1 }, undefined)).toBeUndefined();
  });

  it("validates the plan", () => {
    expect(validateCapacityPlan({ peakDailyGiB: 5, avgDailyGiB: 10, retentionDays: -1 }).map(formatProblem)).toEqual([
      "capacityPlan.retentionDays: must be a number >= 0 (got -1)",
      "capacityPlan.avgDailyGiB: cannot exceed peakDailyGiB (5): the average day is not bigger than the peak day (got 10)",
    ]);
  });

  it("estimates usable bytes of a layout", () => {
    const size = () => 100;
    expect(usableBytes([{ type: "mirror", devices: ["a", "b"] }, { type: "mirror", devices: ["c", "d"] }], size)).toBe(200);
    expect(usableBytes([{ type: "raidz2", devices: ["a", "b", "c", "d", "e", "f"] }], size)).toBe(400);
    expect(usableBytes([{ type: "disk", devices: ["a"] }, { type: "disk", devices: ["b"] }], size)).toBe(200);
    expect(usableBytes([{ type: "mirror", devices: ["a", "b"] }], () => undefined)).toBeUndefined();
  });
});

const snap = (name: string, createtxg: number, creation: number, marker?: [string, string]): SnapshotInfo => ({
  name: `tank/a@${name}`,
  snap: name,
  guid: String(createtxg),
  createtxg,
  creation,
  props: marker ? { "kvmshare:policy": { value: marker[0], source: marker[1] } } : {},
});

describe("snapshot retention", () => {
  const spec: ZfsSnapshotPolicySpec = { policy: "daily", dataset: "tank/a", keep: 2 };

  it("owns only snapshots with its prefix and a locally set marker", () => {
    const all = [
      snap("kvmshare-daily-1", 1, 100, ["daily", "local"]),
      snap("kvmshare-daily-2", 2, 200, ["daily", "inherited from tank/a"]),
      snap("kvmshare-daily-3", 3, 300),
      snap("kvmshare-daily-4", 4, 400, ["other", "local"]),
      snap("manual", 5, 500, ["daily", "local"]),
      snap("kvmshare-daily-6", 6, 600, ["daily", "local"]),
    ];
    expect(ownSnapshots(spec, all).map((s) => s.snap)).toEqual(["kvmshare-daily-1", "kvmshare-daily-6"]);
  });

  it("keeps the newest N and prunes older ones by age, never the newest", () => {
    const own = [1, 2, 3, 4].map((i) => ({ snap: `s${i}`, creation: i * 86400 }));
    expect(toPrune(spec, own, 5 * 86400)).toEqual(["s1", "s2"]);
    expect(toPrune({ ...spec, keep: 10, maxAgeDays: 2.5 }, own, 5 * 86400)).toEqual(["s1", "s2"]);
    expect(toPrune({ ...spec, keep: 10, maxAgeDays: 0.1 }, own, 100 * 86400)).toEqual(["s1", "s2", "s3"]);
  });

  it("is due on every up without an interval, and after the interval with one", () => {
    const observed = { snapshots: ["s1"], creations: [1000], newestCreation: 1000 };
    expect(dueReasons(spec, observed, 1000)).toEqual(["snapshotDue"]);
    expect(dueReasons({ ...spec, intervalMinutes: 60 }, observed, 1000 + 3599)).toEqual([]);
    expect(dueReasons({ ...spec, intervalMinutes: 60 }, observed, 1000 + 3600)).toEqual(["snapshotDue"]);
    expect(dueReasons({ ...spec, intervalMinutes: 60, keep: 1 }, { snapshots: ["a", "b"], creations: [1, 2], newestCreation: 2 }, 3)).toEqual(["retention"]);
  });
});

describe("storage components under mocks", () => {
  const { registered: created } = mockPulumi();
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it("ZfsPool creates one host resource with allowDestroy false by default", async () => {
    const { ZfsPool } = await import("../../components/storage");
    new ZfsPool("tank", { vdevs: [{ type: "mirror", devices: ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] }], ashift: 12 });
    await settle();
    const child = created.find((c) => c.name === "tank-pool");
    expect(child?.type).toMatch(/^pulumi-nodejs:dynamic/);
    expect(child?.inputs.spec).toEqual({ name: "tank", vdevs: [{ type: "mirror", devices: ["/dev/disk/by-id/a", "/dev/disk/by-id/b"] }], allowDestroy: false, ashift: 12 });
  });

  it("ZfsPool throws before creating anything, naming every bad field", async () => {
    const { ZfsPool } = await import("../../components/storage");
    const before = created.length;
    expect(() => new ZfsPool("bad", { poolName: "mirror", vdevs: [{ type: "mirror", devices: ["/a"] }], ashift: 20 })).toThrow(
      /3 invalid inputs[\s\S]*name: must start with a letter[\s\S]*vdevs\[0\]\.devices: a mirror vdev needs at least 2 devices[\s\S]*ashift: must be an integer from 9 to 16/,
    );
    await settle();
    expect(created.length).toBe(before);
  });

  it("ZfsPool warns at preview when the declared file layout is smaller than the capacity plan", async () => {
    const { ZfsPool } = await import("../../components/storage");
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    new ZfsPool("small", {
      vdevs: [{ type: "mirror", devices: ["/var/tmp/a.img", "/var/tmp/b.img"] }],
      fileSizeMiB: 1024,
      capacityPlan: { peakDailyGiB: 2, avgDailyGiB: 1, retentionDays: 7 },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^pool small \(declared layout, about\): 1.00 GiB is smaller than the capacity plan C = 1.2 x \(Dpeak 2 \+ Davg 1 x T 7\) \+ S 0 = 10.80 GiB/), expect.anything());
    warn.mockClear();
    new ZfsPool("big", { vdevs: [{ type: "disk", devices: ["/var/tmp/c.img"] }], fileSizeMiB: 20480, capacityPlan: { peakDailyGiB: 2, avgDailyGiB: 1, retentionDays: 7 } });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it("ZfsDataset follows its pool's connection and depends on it", async () => {
    const { ZfsDataset, ZfsPool } = await import("../../components/storage");
    const conn = { kind: "ssh" as const, host: "kvm1", hostKeySha256: "SHA256:x" };
    const p = new ZfsPool("remote", { connection: conn, vdevs: [{ type: "disk", devices: ["/dev/vdb"] }] });
    const d = new ZfsDataset("share", { pool: p, datasetName: "remote/share", properties: { compression: "lz4", atime: "off" } });
    await settle();
    const child = created.find((c) => c.name === "share-dataset")!;
    expect(child.inputs.spec).toEqual({ name: "remote/share", allowDestroy: false, properties: { compression: "lz4", atime: "off" } });
    expect(JSON.stringify(child.inputs.connection)).toContain("kvm1");
    expect(d.datasetName).toBe("remote/share");
  });

  it("ZfsDataset rejects sync=async in the constructor", async () => {
    const { ZfsDataset } = await import("../../components/storage");
    expect(() => new ZfsDataset("bad", { datasetName: "t/a", properties: { sync: "async" as never } })).toThrow(
      /properties.sync: sync must be one of standard, always, disabled \(got 'async'\)/,
    );
  });

  it("ZfsReplication keeps the target connection out of the spec (it rides in secrets)", async () => {
    const { ZfsReplication } = await import("../../components/protection");
    new ZfsReplication("offsite", {
      source: "tank/vm",
      target: "backup/vm",
      targetConnection: { kind: "ssh", host: "backup1", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc", hostKeySha256: "SHA256:y" },
    });
    await settle();
    const child = created.find((c) => c.name === "offsite-replication")!;
    expect(child.inputs.spec).toEqual({
      name: "offsite",
      source: "tank/vm",
      target: "backup/vm",
      prefix: "kvmshare-repl-offsite",
      intervalMinutes: 0,
      keepSnapshots: 2,
      resumable: "auto",
      readonlyTarget: true,
      dryRun: false,
      allowDestroy: false,
      targetLocal: false,
    });
    expect(JSON.stringify(child.inputs.spec)).not.toContain("PRIVATE KEY");
    expect(JSON.stringify(child.inputs.secrets)).toContain("backup1");
  });

  it("ZfsSnapshotPolicy resolves its defaults once", async () => {
    const { ZfsSnapshotPolicy } = await import("../../components/protection");
    new ZfsSnapshotPolicy("hourly", { dataset: "tank/vm", intervalMinutes: 60, maxAgeDays: 2 });
    await settle();
    expect(created.find((c) => c.name === "hourly-policy")!.inputs.spec).toEqual({
      policy: "hourly",
      dataset: "tank/vm",
      prefix: "kvmshare-hourly",
      intervalMinutes: 60,
      keep: 7,
      maxAgeDays: 2,
      allowDestroy: false,
    });
    expect(() => new ZfsSnapshotPolicy("x", { dataset: "tank", keep: 0 })).toThrow(/dataset: must be 'pool\/dataset[\s\S]*keep: must be an integer from 1/);
  });
});
