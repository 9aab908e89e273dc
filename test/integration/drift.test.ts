/**
 * Drift a reviewer can act on, through the REAL Pulumi CLI: one stack (test/integration/driftStack)
 * with a file (an NFS export), a property (a ZFS dataset on zfs-fuse), a secret (a Samba user's
 * password) and a pool whose layout is changed by hand. After the hand edits, the CI job of
 * examples/ci-drift runs its own command lines (read from drift.yml, not retyped): the preview
 * fails, its `--diff` shows each difference (host "-", declared "+"), the JSON preview carries
 * both sides, no secret appears anywhere, and the pool says it cannot be restored without
 * losing data, naming allowDestroy.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RealEngine, requirePulumiCli } from "../harness/realEngine";
import { requirePrograms } from "../requirePrograms";
import { acquireZfsFuse, tearDownStack, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";

jest.setTimeout(600_000);
const ROOT = path.resolve(__dirname, "../..");
const PROJECT = path.join(__dirname, "driftStack");
const WORKFLOW = path.join(ROOT, "examples/ci-drift/drift.yml");
const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "exportfs", "smbpasswd", "pdbedit", "testparm", "pulumi"], ZFS_FUSE_REQUIREMENTS);

const PASSWORD = `Drift-${crypto.randomBytes(9).toString("base64url")}`;
const HAND_PASSWORD = `Hand-${crypto.randomBytes(9).toString("base64url")}`;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

type Step = { name?: string; run?: string; env?: Record<string, string> };

/** The `run:` lines of the workflow's preview steps, as a CI runner would run them. */
function workflowPreviewCommands(): string[] {
  const wf = yaml.load(fs.readFileSync(WORKFLOW, "utf8")) as { jobs: { drift: { steps: Step[] } } };
  return wf.jobs.drift.steps.map((s) => s.run).filter((r): r is string => !!r && r.startsWith("pulumi preview"));
}

describe("drift through the real CLI: the diff itself, in --diff, in --json and in the CI job", () => {
  let dir: string;
  let zfs: ZfsFuseLease;
  let engine: RealEngine;
  const stack = `drift${process.pid}`;
  const poolName = `ksd${process.pid}`;
  const ci: { code: number | null; out: string }[] = [];
  let json: { steps: { op: string; urn: string; oldState?: { inputs?: Record<string, unknown> }; newState?: { inputs?: Record<string, unknown> } }[] };

  beforeAll(async () => {
    requirePulumiCli();
    zfs = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-drift-"));
    for (const sub of ["share", "exports.d", "vdevs", "shares.d", "state"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    engine = new RealEngine({ workDir: PROJECT, stack, config: { dir, poolName, smbPassword: { secret: PASSWORD } } });
  });

  afterAll(() => tearDownStack({ destroy: () => engine.destroy(), engine, pool: poolName, vdevDir: path.join(dir, "vdevs"), lease: zfs, dir }));

  it("stands up, then hand edits: the export rw -> ro, atime=on, another Samba password, a mirror disk detached", async () => {
    const r = await engine.up();
    expect(r.errors).toEqual([]);
    const exportsFile = path.join(dir, "exports.d", fs.readdirSync(path.join(dir, "exports.d"))[0]);
    const before = fs.readFileSync(exportsFile, "utf8");
    expect(before).toMatch(/\(rw,/);
    fs.writeFileSync(exportsFile, before.replace("(rw,", "(ro,"));
    const run = (argv: string[], input?: string) => {
      const x = spawnSync(argv[0], argv.slice(1), { input, encoding: "utf8" });
      if (x.status !== 0) throw new Error(`${argv.join(" ")}: ${x.stderr}`);
    };
    run(["zfs", "set", "atime=on", `${poolName}/data`]);
    run(["smbpasswd", "-c", path.join(dir, "smb.conf"), "-s", "games"], `${HAND_PASSWORD}\n${HAND_PASSWORD}\n`);
    run(["zpool", "detach", poolName, path.join(dir, "vdevs/d1.img")]);
  });

  it("the CI job's own command lines fail on the drift, print the diff, and keep the JSON", () => {
    const cmds = workflowPreviewCommands();
    expect(cmds).toHaveLength(2);
    expect(cmds[0]).toMatch(/--expect-no-changes --diff/);
    expect(cmds[1]).toMatch(/--json .*> drift-preview\.json$/);
    // The Jenkinsfile runs the very same lines.
    const jenkins = fs.readFileSync(path.join(ROOT, "examples/ci-drift/Jenkinsfile"), "utf8");
    for (const c of cmds) expect(jenkins).toContain(c);
    for (const c of cmds) {
      const t0 = Date.now();
      const r = spawnSync("bash", ["-eo", "pipefail", "-c", c], { cwd: PROJECT, env: { ...process.env, ...engine.env, STACK: stack }, encoding: "utf8", timeout: 300_000 });
      console.log(`ci-drift: \`${c}\` exited ${r.status} in ${Date.now() - t0} ms`);
      ci.push({ code: r.status, out: `${r.stdout}${r.stderr}` });
    }
    const [verdict, asJson] = ci;
    expect(verdict.code).not.toBe(0);
    expect(verdict.out).toMatch(/no changes were expected/);
    expect(asJson.code).toBe(0);
    json = JSON.parse(fs.readFileSync(path.join(PROJECT, "drift-preview.json"), "utf8"));
    fs.rmSync(path.join(PROJECT, "drift-preview.json"));
  });

  const block = (out: string, type: string) => {
    // The plan's (update) block of that resource, up to the next resource.
    const m = out.match(new RegExp(`~ pulumi-nodejs:dynamic/kvmshare:${type}: \\(update\\)[\\s\\S]*?(?=\\n\\s*[~+-]? ?pulumi(-nodejs)?:|\\nResources:|$)`));
    return m ? m[0] : "";
  };
  const driftOf = (type: string) => {
    const s = json.steps.find((x) => x.urn.includes(`kvmshare:${type}::`) && x.op !== "refresh" && x.op !== "same");
    return { host: s?.oldState?.inputs?.drift as Record<string, string> | undefined, declared: s?.newState?.inputs?.drift as Record<string, string> | undefined, op: s?.op };
  };

  it("a file: --diff shows the export's line as on the host (-) and as declared (+); --json carries both", () => {
    const b = block(ci[0].out, "NfsExport");
    console.log(`--diff, NfsExport:\n${b}`);
    expect(b).toMatch(/drift\s*:/);
    expect(b).toMatch(/- .*127\.0\.0\.1\(ro,/);
    expect(b).toMatch(/\+ .*127\.0\.0\.1\(rw,/);
    const d = driftOf("NfsExport");
    expect(d.op).toBe("update");
    expect(d.host?.content).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@\n[\s\S]*\(ro,/);
    expect(d.declared?.content).toMatch(/\(rw,/);
    expect(d.declared?.content).not.toMatch(/\(ro,/);
  });

  it("a property: --diff shows properties.atime on -> off; --json carries both", () => {
    const b = block(ci[0].out, "ZfsDataset");
    console.log(`--diff, ZfsDataset:\n${b}`);
    expect(b).toMatch(/properties\.atime\s*:\s*"on" => "off"/);
    expect(driftOf("ZfsDataset")).toMatchObject({ op: "update", host: { "properties.atime": "on" }, declared: { "properties.atime": "off" } });
  });

  it("a secret: the Samba user's password drift shows as a verdict, and neither password appears anywhere", () => {
    const b = block(ci[0].out, "SmbUser");
    console.log(`--diff, SmbUser:\n${b}`);
    expect(b).toMatch(/passwordCurrent\s*:\s*"false" => "true"/);
    expect(b).toMatch(/secrets\s*:\s*\[secret\]/);
    expect(driftOf("SmbUser")).toMatchObject({ host: { passwordCurrent: "false" }, declared: { passwordCurrent: "true" } });
    const everything = [ci[0].out, ci[1].out, JSON.stringify(json), ...engine.stateFiles().map((f) => fs.readFileSync(f, "utf8"))].join("\n");
    expect(everything).toContain("passwordCurrent"); // the search covers the drift
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(HAND_PASSWORD);
  });

  it("a pool layout: the preview says it cannot be restored without losing data, naming allowDestroy", () => {
    const b = block(ci[0].out, "ZfsPool");
    console.log(`--diff, ZfsPool:\n${b}`);
    expect(b).toMatch(/vdevs/);
    expect(b).toMatch(/restoreLosesData\s*:\s*"not even allowDestroy re-creates pool 'ksd\d+' \(that would destroy its data\)/);
    expect(driftOf("ZfsPool").declared?.restoreLosesData).toMatch(/allowDestroy/);
  });

  it("one log line per drifted resource, not repeated", () => {
    const lines = ci[0].out.split("\n").filter((l) => /\[kvmshare \w+\] drift on /.test(l));
    console.log(lines.join("\n"));
    const byKind = (k: string) => lines.filter((l) => l.includes(`[kvmshare ${k}]`)).length;
    expect([byKind("NfsExport"), byKind("ZfsDataset"), byKind("SmbUser"), byKind("ZfsPool")]).toEqual([1, 1, 1, 1]);
    expect(lines.join("\n")).toMatch(/\[kvmshare ZfsPool\] .*NOT restorable in place: not even allowDestroy .*`pulumi up` cannot put it back/);
  });
});
