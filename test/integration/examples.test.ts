/**
 * The runnable examples, each run through the REAL Pulumi engine (the CLI, Automation API) as a
 * copy of its project directory with kvmshare installed from the `npm pack` tarball, on this
 * machine in sandbox mode (`sandbox` config: every file below a temp dir, no reload/start), with the parts that
 * need the kernel done for real: exportfs checks the export, systemd-analyze verifies the guest
 * units, network tuning and the firewall run in network namespaces this test makes, and the
 * virtiofs example edits a real domain on a libvirtd started by hand.
 * Each also shows the CI drift job's point: after a hand edit, preview --refresh reports changes.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { packKvmshare, projectFromDir, RealEngine, requirePulumiCli } from "../harness/realEngine";
import { createVethPair, deleteVethPair, nsRun, VethPair } from "../fixtures/netns";
import { Libvirtd, startLibvirtd, tcgDomainXml } from "../fixtures/libvirtd";
import { stopKrb5kdc } from "../fixtures/krb5kdc";
import { stopFreeradius } from "../fixtures/radiusd";
import { Smbd, startSmbd } from "../fixtures/smbd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["pulumi", ...PROGRAMS.netns, "nft", "exportfs", "systemd-analyze", ...PROGRAMS.samba], { root: true });
const describeVirtiofs = requirePrograms(["pulumi", ...PROGRAMS.libvirt], { root: true });

// Real tools and the real engine on a 2-core machine that other test lanes share: give each step room.
jest.setTimeout(300_000);
const EXAMPLES = path.resolve(__dirname, "../../examples");

const made: { dir: string; engine: RealEngine }[] = [];
afterAll(() => {
  for (const m of made) {
    m.engine.remove();
    fs.rmSync(m.dir, { recursive: true, force: true });
  }
});

/** The example as a user has it: its own directory and node_modules, kvmshare from the tarball. */
function exampleEngine(name: string, config: Record<string, string | { secret: string }>): RealEngine {
  requirePulumiCli();
  const dir = projectFromDir(path.join(EXAMPLES, name), packKvmshare());
  const engine = new RealEngine({ workDir: dir, stack: `ex${process.pid}`, config });
  made.push({ dir, engine });
  return engine;
}

describe("examples/nfs-share in a sandbox (exportfs check, systemd-analyze, netns tuning + firewall)", () => {
  let dir: string;
  let pair: VethPair;
  let engine: RealEngine;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-example-nfs-"));
    fs.mkdirSync(path.join(dir, "srv/vmshare"), { recursive: true });
    pair = createVethPair("exn", 241);
    engine = exampleEngine("nfs-share", { sandbox: dir, device: pair.devA, netns: pair.nsA, firewall: "true", guestAddress: pair.ipB, serverAddress: pair.ipA });
  });
  afterAll(() => {
    deleteVethPair(pair);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("pulumi up: export, tuning, firewall and guest unit, all checked by the real tools", async () => {
    const t0 = Date.now();
    const r = await engine.up();
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect(r.changes.every((s) => s.op === "create")).toBe(true);
    const exportsFile = fs.readFileSync(path.join(dir, "etc/exports.d/vmshare-export.exports"), "utf8");
    expect(exportsFile).toContain(`"${dir}/srv/vmshare" ${pair.ipB}(rw,`);
    const unit = fs.readFileSync(path.join(dir, "guest/etc/systemd/system/mnt-vmshare.mount"), "utf8");
    expect(unit).toContain(`What=${pair.ipA}:${dir}/srv/vmshare`);
    expect(unit).toContain("Options=vers=4.2,nconnect=4,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,sec=sys");
    expect(nsRun(pair.nsA, ["cat", "/proc/sys/net/ipv4/tcp_congestion_control"]).trim()).toBe("bbr");
    expect(nsRun(pair.nsA, ["ip", "-j", "link", "show", pair.devA])).toContain('"mtu":9000');
    const table = nsRun(pair.nsA, ["nft", "list", "table", "inet", "kvmshare"]);
    expect(table).toContain(pair.ipB);
    expect(table).toContain("2049");
    process.stdout.write(`examples/nfs-share up (${r.changes.length} resources): ${ms} ms\n`);
  });

  it("a second up changes nothing", async () => {
    const r = await engine.up();
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("preview --refresh --expect-no-changes would fail after the guest unit is edited by hand", async () => {
    const f = path.join(dir, "guest/etc/systemd/system/mnt-vmshare.mount");
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("nconnect=4", "nconnect=1"));
    const p = await engine.preview({ refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["vmshare-guest-mount"]);
    expect(engine.lastOutput).toMatch(/nconnect=1/);
    expect((await engine.up({ refresh: true })).errors).toEqual([]);
    expect(fs.readFileSync(f, "utf8")).toContain("nconnect=4");
  });

  it("pulumi destroy removes what up made", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(dir, "etc/exports.d/vmshare-export.exports"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "guest/etc/systemd/system/mnt-vmshare.mount"))).toBe(false);
    expect(nsRun(pair.nsA, ["nft", "list", "tables"])).not.toContain("kvmshare");
    expect(fs.existsSync(path.join(dir, "srv/vmshare"))).toBe(true);
  });
});

describeVirtiofs("examples/virtiofs against a libvirtd started by hand", () => {
  let lv: Libvirtd;
  let engine: RealEngine;
  const domain = `ks-ex-vfs-${process.pid}`;

  beforeAll(async () => {
    lv = await startLibvirtd();
    fs.mkdirSync(path.join(lv.dir, "vmdata"));
    fs.writeFileSync(path.join(lv.dir, "d.xml"), tcgDomainXml(domain, lv.dir));
    lv.virsh("define", path.join(lv.dir, "d.xml"));
    engine = exampleEngine("virtiofs", { sandbox: lv.dir, domain, libvirtUri: lv.uri, hostPath: path.join(lv.dir, "vmdata"), vcpuPins: JSON.stringify([{ vcpu: 0, cpuset: "0" }]), emulatorPin: "1" });
  }, 60_000);
  afterAll(async () => {
    if (lv) await lv.stop();
  });

  it("pulumi up: the domain gets the virtiofs filesystem, shared memory and pins; the guest a verified unit", async () => {
    const t0 = Date.now();
    const r = await engine.up();
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    const xml = lv.virsh("dumpxml", "--inactive", "--domain", domain);
    expect(xml).toMatch(/<driver type='virtiofs'\/>\s*<binary xattr='on'>\s*<cache mode='always'\/>\s*<lock posix='on' flock='on'\/>/);
    expect(xml).toContain(`<source dir='${lv.dir}/vmdata'/>`);
    expect(xml).toMatch(/<memoryBacking>\s*<source type='memfd'\/>\s*<access mode='shared'\/>/);
    expect(xml).toMatch(/<vcpupin vcpu='0' cpuset='0'\/>\s*<emulatorpin cpuset='1'\/>/);
    const unit = fs.readFileSync(path.join(lv.dir, "guest/etc/systemd/system/mnt-vmdata.mount"), "utf8");
    expect(unit).toMatch(/What=vmdata\nWhere=\/mnt\/vmdata\nType=virtiofs/);
    process.stdout.write(`examples/virtiofs up: ${ms} ms\n`);
  });

  it("preview --refresh reports the filesystem removed by hand (virsh edit), up puts it back", async () => {
    const xml = lv.virsh("dumpxml", "--inactive", "--domain", domain).replace(/<filesystem[\s\S]*?<\/filesystem>/, "");
    fs.writeFileSync(path.join(lv.dir, "hand.xml"), xml);
    lv.virsh("define", path.join(lv.dir, "hand.xml"));
    const p = await engine.preview({ refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["vmdata-passthrough-domain"]);
    expect((await engine.up({ refresh: true })).errors).toEqual([]);
    expect(lv.virsh("dumpxml", "--inactive", "--domain", domain)).toContain("<target dir='vmdata'/>");
  });

  it("pulumi destroy gives the domain back without kvmshare's parts", async () => {
    expect((await engine.destroy()).errors).toEqual([]);
    expect(lv.virsh("dumpxml", "--inactive", "--domain", domain)).not.toMatch(/filesystem|memoryBacking|cputune|kvmshare/);
  });
});

describe("examples/smb-share in a sandbox, then a real smbd authenticates the guest's credentials file", () => {
  let dir: string;
  let engine: RealEngine;
  let smbd: Smbd | undefined;
  const port = 25000 + (process.pid % 1000);
  const password = `Ex-${crypto.randomBytes(9).toString("base64url")}`;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-example-smb-"));
    fs.mkdirSync(path.join(dir, "srv/smbshare"), { recursive: true });
    fs.chmodSync(dir, 0o755); // mkdtemp makes it 0700: the share's owner must be able to walk in
    fs.chownSync(path.join(dir, "srv/smbshare"), 5, 0); // "games", an existing system account, owns the share
    engine = exampleEngine("smb-share", { sandbox: dir, smbUser: "games", smbPassword: { secret: password }, port: String(port), interface: "127.0.0.1", guestAddress: "127.0.0.1", serverAddress: "127.0.0.1" });
  });
  afterAll(async () => {
    await smbd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it("pulumi up: hardened server, user, share; the guest gets a 0600 credentials file and a verified unit", async () => {
    const t0 = Date.now();
    const r = await engine.up();
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    const cred = path.join(dir, "guest/etc/kvmshare/mnt-smbshare.cred");
    expect((fs.statSync(cred).mode & 0o777).toString(8)).toBe("600");
    expect(fs.readFileSync(cred, "utf8")).toBe(`username=games\npassword=${password}\n`);
    const unit = fs.readFileSync(path.join(dir, "guest/etc/systemd/system/mnt-smbshare.mount"), "utf8");
    expect(unit).toContain("What=//127.0.0.1/vmshare");
    expect(unit).toContain(`Options=vers=3.1.1,seal,credentials=/etc/kvmshare/mnt-smbshare.cred,port=${port},uid=1000,gid=1000`);
    expect(unit).not.toContain(password);
    // Neither the stored state (encrypted by the passphrase provider) nor anything the engine printed holds the password.
    expect(engine.stateFiles().length).toBeGreaterThan(0);
    for (const f of engine.stateFiles()) expect(fs.readFileSync(f, "utf8")).not.toContain(password);
    expect(engine.lastOutput).not.toContain(password);
    process.stdout.write(`examples/smb-share up: ${ms} ms\n`);
  });

  it("smbd started on that config lets the guest's credentials file in over encrypted SMB3, and the file lands in the share", async () => {
    smbd = await startSmbd(path.join(dir, "etc/samba/smb.conf"), port);
    fs.writeFileSync(path.join(dir, "payload.txt"), "from the guest side\n");
    const cred = path.join(dir, "guest/etc/kvmshare/mnt-smbshare.cred");
    const r = spawnSync("smbclient", ["//127.0.0.1/vmshare", "-p", String(port), "-m", "SMB3", "--client-protection=encrypt", "-A", cred, "-c", "put payload.txt"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(`exit ${r.status}: ${r.stdout}${r.stderr}`).toMatch(/^exit 0: /);
    expect(fs.readFileSync(path.join(dir, "srv/smbshare/payload.txt"), "utf8")).toBe("from the guest side\n");
    // a wrong password in the same file format is refused
    fs.writeFileSync(path.join(dir, "wrong.cred"), "username=games\npassword=wrong\n", { mode: 0o600 });
    const bad = spawnSync("smbclient", ["//127.0.0.1/vmshare", "-p", String(port), "-m", "SMB3", "--client-protection=encrypt", "-A", path.join(dir, "wrong.cred"), "-c", "ls"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/NT_STATUS_LOGON_FAILURE/);
  });

  it("a second up changes nothing; destroy removes the share and the guest's files", async () => {
    const again = await engine.up();
    // On failure, show what the provider said differs (its `differs:` lines).
    expect({ changes: again.changes, differs: engine.lastOutput.match(/differs: .*/g) ?? [] }).toEqual({ changes: [], differs: [] });
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(dir, "guest/etc/kvmshare/mnt-smbshare.cred"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "guest/etc/systemd/system/mnt-smbshare.mount"))).toBe(false);
    expect(fs.readFileSync(path.join(dir, "srv/smbshare/payload.txt"), "utf8")).toBe("from the guest side\n");
  });
});

const describeKerberos = requirePrograms([...PROGRAMS.kerberos, "exportfs"], { root: true });

describeKerberos("examples/nfs-kerberos in a sandbox: a realm with OTP through the real engine, then kinit with password + TOTP", () => {
  let dir: string;
  let engine: RealEngine;
  const secret = (n: number) => crypto.randomBytes(n).toString("base64url");
  const master = `mk-${secret(12)}`;
  const admin = `ad-${secret(12)}`;
  const radius = `rs-${secret(12)}`;
  const password = `pw-${secret(9)}`;
  const totp = Array.from(crypto.randomBytes(32), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b & 31]).join("");
  const kdcPort = 29000 + (process.pid % 400);
  const radiusPort = kdcPort + 500;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-example-krb5-"));
    fs.mkdirSync(path.join(dir, "srv/krb5share"), { recursive: true });
    engine = exampleEngine("nfs-kerberos", {
      sandbox: dir,
      kdcPort: String(kdcPort),
      radiusPort: String(radiusPort),
      kdcMasterKey: { secret: master },
      kdcAdminPassword: { secret: admin },
      radiusSecret: { secret: radius },
      otpPassword: { secret: password },
      otpTotpSecret: { secret: totp },
      guestAddress: "127.0.0.1",
    });
  });
  afterAll(() => {
    stopKrb5kdc(path.join(dir, "run/krb5kdc.pid"));
    stopFreeradius(path.join(dir, "run/kvmshare-otp.pid"));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("pulumi up stands up the realm, RADIUS, keytab, OTP user and a krb5p export; no secret in the stored state", async () => {
    const t0 = Date.now();
    const r = await engine.up();
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "etc/exports.d/krb5share.exports"), "utf8")).toMatch(/127\.0\.0\.1\(rw,.*sec=krb5p\)/);
    expect(fs.statSync(path.join(dir, "etc/krb5.keytab")).mode & 0o777).toBe(0o600);
    expect(engine.stateFiles().length).toBeGreaterThan(0);
    for (const f of engine.stateFiles()) {
      const text = fs.readFileSync(f, "utf8");
      for (const s of [master, admin, radius, password, totp]) expect(text).not.toContain(s);
    }
    process.stdout.write(`examples/nfs-kerberos up (${r.changes.length} resources, real engine): ${ms} ms\n`);
  });

  it("the user gets a ticket with password + token (FAST armor), not with a wrong token", () => {
    const env = { ...process.env, KRB5_CONFIG: path.join(dir, "etc/krb5.conf") };
    const armor = spawnSync("kinit", ["-k", "-t", path.join(dir, "etc/krb5.keytab"), "-c", path.join(dir, "armor.cc"), "host/nfs.kvmshare.test"], { env, encoding: "utf8" });
    expect(armor.status).toBe(0);
    const step = Math.floor(Date.now() / 1000) % 30;
    if (step >= 26) spawnSync("sleep", [String(31 - step)]); // rlm_totp takes only the current 30 s step
    const token = spawnSync("oathtool", ["--totp", "-b", totp], { encoding: "utf8" }).stdout.trim();
    const kinit = (otp: string) => spawnSync("kinit", ["-T", path.join(dir, "armor.cc"), "-c", path.join(dir, "alice.cc"), "alice"], { env, input: `${otp}\n`, encoding: "utf8" }).status;
    expect(kinit(`${password}${String((Number(token) + 1) % 1000000).padStart(6, "0")}`)).toBe(1);
    expect(kinit(`${password}${token}`)).toBe(0);
  });

  it("a second up changes nothing", async () => {
    const r = await engine.up();
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });
});

describe("examples/ci-drift", () => {
  const dir = path.join(__dirname, "../../examples/ci-drift");

  it("the GitHub Actions job runs the drift preview for every listed example project that exists", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const yaml = require("js-yaml") as { load(s: string): unknown };
    const wf = yaml.load(fs.readFileSync(path.join(dir, "drift.yml"), "utf8")) as {
      on: Record<string, unknown>;
      jobs: { drift: { strategy: { matrix: { include: { project: string; stack: string }[] } }; steps: { run?: string; uses?: string; env?: Record<string, string> }[] } };
    };
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(["schedule", "workflow_dispatch"]));
    // The verdict step previews the matrix's stack (through $STACK, set from the matrix).
    const verdict = wf.jobs.drift.steps.find((s) => /--expect-no-changes/.test(s.run ?? ""));
    expect(verdict?.run).toMatch(/pulumi preview --stack "\$STACK" --refresh --expect-no-changes/);
    expect(verdict?.env?.STACK).toBe("${{ matrix.stack }}");
    expect(wf.jobs.drift.steps.some((s) => s.uses?.startsWith("pulumi/actions@"))).toBe(true);
    for (const { project } of wf.jobs.drift.strategy.matrix.include) {
      expect(fs.existsSync(path.join(__dirname, "../..", project, "Pulumi.yaml"))).toBe(true);
    }
  });

  it("the Jenkinsfile runs the same preview for projects that exist", () => {
    const text = fs.readFileSync(path.join(dir, "Jenkinsfile"), "utf8");
    expect(text).toMatch(/pulumi preview --stack .* --refresh --expect-no-changes --diff --non-interactive/);
    const projects = /values ([^\n]+)/.exec(text)![1].match(/'([^']+)'/g)!.map((s) => s.slice(1, -1));
    expect(projects.length).toBeGreaterThan(0);
    for (const p of projects) expect(fs.existsSync(path.join(__dirname, "../..", p, "Pulumi.yaml"))).toBe(true);
  });
});
