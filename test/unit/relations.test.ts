/**
 * Relations refused at preview (issue 25, deliverable 4): self-references (replication, drill,
 * transfer, files of one component), bounds on counts and periods (the bound named in the
 * message), and control characters kept out of log lines.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ValidationError } from "../../core/errors";
import { samePathProblems } from "../../core/writePaths";
import { ZfsReplicationArgs, validateReplicationSpec, validateZfsReplication, resolveZfsReplication } from "../../components/protection/zfsReplicationArgs";
import { validateZfsRestoreDrill } from "../../components/protection/restoreDrillArgs";
import { validateSnapshotPolicySpec } from "../../components/protection/zfsSnapshotPolicyArgs";
import { PROTECTION_BOUNDS } from "../../components/protection/backupWindow";
import { datasetOverlap, sameHost } from "../../components/protection/relations";
import { validatePoolSpec } from "../../components/storage/zfsPoolArgs";
import { validateParallelTransfer } from "../../components/transfer/parallelTransferArgs";
import { validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { logLine } from "../../provider/providerImpl";
import { createDisplay } from "../../cli/display";
import { copy } from "../../transfer/engine";
import { TransferError } from "../../transfer/errors";

/** The problems a throwing validator reports ([] when it does not throw). */
function problemsOf(fn: () => void) {
  try {
    fn();
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems;
  }
}

const SSH_A = { kind: "ssh", host: "backup.example.org", user: "root" };

describe("ZfsReplication: the target is not its source on the same host", () => {
  const repl = (over: Partial<ZfsReplicationArgs>) => problemsOf(() => validateZfsReplication("r", { source: "tank/data", target: "backup/data", ...over } as ZfsReplicationArgs));

  it.each([
    ["the source itself", "tank/data", "tank/data", /is the source dataset itself on the same host: receiving into it would roll back the live data/],
    ["inside the source", "tank/data", "tank/data/copy", /is inside the source dataset on the same host/],
    ["holding the source", "tank/data/vm", "tank/data", /holds the source dataset on the same host: 'zfs receive -F' into it destroys/],
  ])("%s is refused (no targetConnection: the source's host)", (_what, source, target, re) => {
    expect(repl({ source, target })).toEqual([{ field: "target", value: target, message: expect.stringMatching(re) }]);
  });

  it("the same rule in the spec the provider checks (targetLocal)", () => {
    const spec = resolveZfsReplication("r", { source: "tank/data", target: "tank/data" });
    expect(validateReplicationSpec(spec).map((p) => p.field)).toEqual(["target"]);
  });

  it("a targetConnection or sshTarget that reaches the source's host is the same host", () => {
    expect(repl({ target: "tank/data", targetConnection: { kind: "local" } }).map((p) => p.field)).toEqual(["target"]);
    expect(repl({ target: "tank/data", connection: SSH_A as never, targetConnection: { ...SSH_A, port: 22 } as never }).map((p) => p.field)).toEqual(["target"]);
    const syncoid = { scheduler: "syncoid" as const, intervalMinutes: 15, targetConnection: SSH_A as never };
    expect(repl({ ...syncoid, target: "tank/data", sshTarget: { host: "127.0.0.1", keyFile: "/root/.ssh/id_ed25519" } }).map((p) => p.field)).toEqual(["target"]);
    expect(repl({ ...syncoid, target: "tank/data", sshTarget: { host: "localhost", keyFile: "/root/.ssh/id_ed25519" } }).map((p) => p.field)).toEqual(["target"]);
  });

  it("another host, or another dataset tree, is fine", () => {
    expect(repl({})).toEqual([]);
    expect(repl({ target: "tank/data2" })).toEqual([]);
    expect(repl({ target: "tank/data", targetConnection: SSH_A as never })).toEqual([]);
    expect(repl({ target: "tank/data", scheduler: "syncoid", intervalMinutes: 15, targetConnection: SSH_A as never, sshTarget: { host: "backup.example.org", keyFile: "/root/.ssh/id_ed25519" } })).toEqual([]);
  });

  it("sameHost and datasetOverlap, case by case", () => {
    expect(sameHost(undefined, undefined)).toBe(true);
    expect(sameHost({ kind: "local" }, { kind: "ssh", host: "::1" })).toBe(true);
    expect(sameHost(SSH_A, { ...SSH_A, host: "BACKUP.example.org" })).toBe(true);
    expect(sameHost(SSH_A, { ...SSH_A, port: 2222 })).toBe(false);
    expect(sameHost(undefined, SSH_A)).toBe(false);
    expect(sameHost({ kind: "local" }, { apply: () => undefined })).toBe(false); // an Output: not known
    expect(datasetOverlap("tank/a", "tank/ab")).toBeUndefined();
  });
});

describe("ZfsRestoreDrill: a dataset is not compared with itself", () => {
  const drill = (over: object) => problemsOf(() => validateZfsRestoreDrill("d", { source: "tank/data", target: "backup/data", ...over }));
  it("source = target on the same host is refused: a check that cannot fail", () => {
    expect(drill({ target: "tank/data" })).toEqual([{ field: "target", value: "tank/data", message: expect.stringMatching(/compare it with itself and always report a match \(a check that cannot fail\)/) }]);
    expect(drill({ target: "tank/data", targetConnection: { kind: "local" } }).map((p) => p.field)).toEqual(["target"]);
  });
  it("the same name on another host, or the replica, is fine", () => {
    expect(drill({})).toEqual([]);
    expect(drill({ target: "tank/data", targetConnection: SSH_A })).toEqual([]);
  });
});

describe("kvmshare drill: a dataset is not compared with itself", () => {
  const run = async (...args: string[]) => {
    const { Command } = await import("commander");
    const { register } = await import("../../cli/drill");
    let err = "";
    let code = -1;
    register(new Command().exitOverride(), { stdout: () => undefined, stderr: (t) => (err += t), exit: (c) => (code = c) }).parseAsync(["node", "kvmshare", "drill", ...args]);
    await new Promise((r) => setImmediate(r));
    return { code, err };
  };
  it("on this machine (or a loopback --target-host) it exits 2 before touching any host", async () => {
    for (const extra of [[], ["--target-host", "127.0.0.1", "--target-key", "/nonexistent", "--target-host-key", "SHA256:x"]]) {
      const { code, err } = await run("tank/vm", "tank/vm", ...extra);
      expect(code).toBe(2);
      expect(err).toMatch(/<target>: is the source dataset itself on the same host: the drill would compare it with itself/);
    }
  });
  it("formatDrill escapes control characters in the file names it lists", async () => {
    const { formatDrill } = await import("../../cli/drill");
    const text = formatDrill({ match: false, snapshot: "s", files: 1, mismatched: ["a\x1b[2Jb"], missing: [], extra: [], unreadable: [], seconds: 1 } as never, "tank/a", "backup/a");
    expect(text).toContain("differs: a\\u001b[2Jb");
  });
});

describe("ParallelTransfer and the copy engine: no copy onto or into its source", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-rel-"));
    fs.mkdirSync(path.join(dir, "src"));
    fs.writeFileSync(path.join(dir, "src", "f.bin"), "data");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["the source itself", "src", /is the source itself/],
    ["inside the source", "src/copy", /is inside the source .*copy itself without end/],
    ["holding the source", "", /holds the source .*replacing it would delete the source/],
  ])("ParallelTransfer: a local destination that is %s is refused at preview", (_what, rel, re) => {
    const destination = rel ? path.join(dir, rel) : dir;
    const problems = validateParallelTransfer({ source: path.join(dir, "src"), destination }).filter((p) => p.field === "destination");
    expect(problems).toEqual([{ field: "destination", value: destination, message: expect.stringMatching(re) }]);
  });

  it("ParallelTransfer: the same path on another host is fine", () => {
    const src = path.join(dir, "src");
    expect(validateParallelTransfer({ source: src, destination: src, connection: SSH_A as never })).toEqual([]);
    expect(validateParallelTransfer({ source: src, destination: path.join(dir, "out") })).toEqual([]);
  });

  it.each([
    ["a directory into itself", "src", "src/sub"],
    ["a file onto itself", "src/f.bin", "src/f.bin"],
    ["a file into its own directory", "src/f.bin", "src/"],
  ])("engine (library and CLI): %s is a usage error and writes nothing", async (_what, s, d) => {
    const before = fs.readdirSync(path.join(dir, "src")).sort();
    const err = await copy(path.join(dir, s), { kind: "local", path: path.join(dir, d) + (d.endsWith("/") ? "/" : "") }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect([err.code, err.message]).toEqual(["USAGE", expect.stringMatching(/is (the source itself|inside the source)/)]);
    expect(fs.readdirSync(path.join(dir, "src")).sort()).toEqual(before);
  });
});

describe("files of one component that name the same path", () => {
  it("samePathProblems names both fields; unset and empty are skipped", () => {
    expect(samePathProblems({ a: "/etc/x", b: "", c: undefined, d: "/etc//x" })).toEqual([{ field: "d", value: "/etc//x", message: "is the same file as a: one would overwrite the other; give each its own path" }]);
  });
  it.each([
    ["KerberosKeytab keytabPath = krb5ConfPath", () => validateKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn: "h.example.org", principals: [], keytabPath: "/etc/krb5.conf", krb5ConfPath: "/etc/krb5.conf" } as never), "keytabPath"],
    ["KerberosRealm stashPath = kdcConfPath", () => validateKerberosRealm(resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", stashPath: "/etc/krb5kdc/kdc.conf" } as never)), "stashPath"],
    ["KerberosClient idmapdConfPath = krb5ConfPath", () => validateKerberosClient(resolveKerberosClient("c", { realm: "EXAMPLE.ORG", kdcs: ["kdc"], idmapdConfPath: "/etc/krb5.conf" } as never)), "idmapdConfPath"],
    ["SambaServer sharesIndexPath = configPath", () => validateSambaServer(resolveSambaServer("s", { sharesIndexPath: "/etc/samba/smb.conf" })), "sharesIndexPath"],
  ])("%s is refused", (_what, run, field) => {
    expect(run().filter((p) => /is the same file as/.test(p.message)).map((p) => p.field)).toEqual([field]);
  });
});

describe("bounds on counts and periods, the bound named in the message", () => {
  const policy = (over: object) => validateSnapshotPolicySpec({ policy: "p", dataset: "tank/a", scheduler: "sanoid", hourly: 24, timerOnCalendar: "hourly", ...over } as never);
  const repl = (over: object) => validateReplicationSpec({ name: "r", source: "tank/a", target: "backup/a", ...over } as never);
  const rows: [string, keyof typeof PROTECTION_BOUNDS, (v: number) => { field: string; message: string }[]][] = [
    ["ZfsSnapshotPolicy.keep", "keep", (v) => policy({ scheduler: "up", keep: v })],
    ["ZfsSnapshotPolicy.hourly", "hourly", (v) => policy({ hourly: v })],
    ["ZfsSnapshotPolicy.daily", "daily", (v) => policy({ daily: v })],
    ["ZfsSnapshotPolicy.monthly", "monthly", (v) => policy({ monthly: v })],
    ["ZfsSnapshotPolicy.intervalMinutes", "intervalMinutes", (v) => policy({ scheduler: "up", intervalMinutes: v })],
    ["ZfsSnapshotPolicy.maxAgeDays", "maxAgeDays", (v) => policy({ scheduler: "up", maxAgeDays: v })],
    ["ZfsReplication.keepSnapshots", "keepSnapshots", (v) => repl({ keepSnapshots: v })],
    ["ZfsReplication.intervalMinutes", "intervalMinutes", (v) => repl({ intervalMinutes: v })],
  ];
  it.each(rows)("%s: the bound is accepted, one more is refused naming it", (label, key, run) => {
    const { max, why } = PROTECTION_BOUNDS[key];
    const field = label.split(".")[1];
    expect(run(max).filter((p) => p.field === field)).toEqual([]);
    const refused = run(max + 1).filter((p) => p.field === field);
    expect(refused.map((p) => p.message)).toEqual([expect.stringContaining(String(max))]);
    expect(refused[0].message).toContain(why);
  });

  it("ZfsPool.fileSizeMiB: 16 TiB (ext4's largest file) is the most", () => {
    const pool = (n: number) => validatePoolSpec({ name: "tank", vdevs: [{ type: "disk", devices: ["/var/tmp/a.img"] }], fileSizeMiB: n } as never).filter((p) => p.field === "fileSizeMiB");
    expect(pool(16 * 1024 * 1024)).toEqual([]);
    expect(pool(16 * 1024 * 1024 + 1).map((p) => p.message)).toEqual([expect.stringMatching(/16777216 .*16 TiB is ext4's largest file/)]);
  });
});

describe("terminal escapes never reach a log line raw", () => {
  const ESC = "\x1b]0;owned\x07\x1b[2J\x9b31m";
  it("a kind's log line escapes control characters, keeps one tagged line per line, redacts secrets", () => {
    const out = logLine("ParallelTransfer", `copying /srv/${ESC}x -> /dst\npw=s3cret`, ["s3cret"]);
    expect(out).toBe("[kvmshare ParallelTransfer] copying /srv/\\u001b]0;owned\\u0007\\u001b[2J\\u009b31mx -> /dst\n[kvmshare ParallelTransfer] pw=[secret]\n");
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
  it("the CLI's start line and notices escape the file names they carry", () => {
    let text = "";
    const d = createDisplay("lines", { write: (t: string) => ((text += t), true) } as never);
    d.onEvent({ type: "start", source: `/srv/${ESC}`, destination: "/dst", totalBytes: 1, files: 1, streams: 1 } as never);
    d.onEvent({ type: "notice", message: `skipped /srv/${ESC}` } as never);
    d.stop();
    expect(text).toContain("\\u001b]0;owned");
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });
});
