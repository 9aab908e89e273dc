/**
 * A realm with a second factor on this machine, in a sandbox: KerberosRealm (a real MIT krb5kdc
 * on a high port, database, stash, kdc.conf with [otp] under a temp dir, found through
 * KRB5_CONFIG/KRB5_KDC_PROFILE), OtpRadius (a real FreeRADIUS 3.2 with rlm_totp, `-d <dir>`),
 * KerberosKeytab and KerberosOtpUser, through the harness engine. Then `kinit -T` with FAST armor
 * from the host keytab: password + current TOTP gets a ticket, once (the same code again inside
 * its step does not); a wrong token, a wrong password, the password alone, or no armor do not.
 * Daemons are started by the components' restart commands with private pid files and killed by
 * PID.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { krb5kdcRestartCommand, stopKrb5kdc } from "../fixtures/krb5kdc";
import { freeradiusRestartCommands, stopFreeradius } from "../fixtures/radiusd";
import * as pulumi from "@pulumi/pulumi";
import { KerberosClient, KerberosKeytab, KerberosOtpUser, KerberosRealm, OtpRadius } from "../../components/kerberos";
import { testEngine, TestEngine } from "../harness/testEngine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(PROGRAMS.kerberos, { root: true });
jest.setTimeout(120_000);

const REALM = "KVMSHARE.TEST";
const FQDN = "kdc.kvmshare.test";
const KDC_PORT = 28000 + (process.pid % 500);
const KADMIN_PORT = KDC_PORT + 600;
const RADIUS_PORT = KDC_PORT + 1200;
const rnd = (n = 12) => crypto.randomBytes(n).toString("base64url");
const MASTER = `mk-${rnd()}`;
const ADMIN_PW = `ad-${rnd()}`;
const RADIUS_SECRET = `rs-${rnd()}`;
const ALICE_PW = `Al1ce-${rnd(8)}`;
const TOTP = crypto.randomBytes(20).toString("hex").toUpperCase().replace(/[^A-Z2-7]/g, "A").slice(0, 32); // base32 alphabet

describe("Kerberos realm with OTP (password + TOTP via FreeRADIUS) on real daemons", () => {
  let dir: string;
  let engine: TestEngine;
  let env: NodeJS.ProcessEnv;
  const p = (f: string) => path.join(dir, f);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-krb5-"));
    // The real CLI: a drift the provider alone can see (`usersCurrent`, derived from secrets) is
    // named through the `drift` input the provider's read returns (issue 30).
    engine = testEngine({ stateFile: p("state.json") });
    env = { ...process.env, KRB5_CONFIG: p("krb5.conf"), KRB5_KDC_PROFILE: p("kdc.conf"), KRB5CCNAME: `FILE:${p("cc-default")}` };
    process.env.KVMSHARE_QUIET ??= "1";
  });
  afterAll(() => {
    stopKrb5kdc(p("kdc.pid"));
    stopFreeradius(p("run/kvmshare-otp.pid"));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const program = (over: { alicePassword?: string; allowDestroy?: boolean } = {}) => () => {
    new KerberosClient("client", { realm: REALM, kdcs: [`127.0.0.1:${KDC_PORT}`], adminServers: [`127.0.0.1:${KADMIN_PORT}`], domain: "kvmshare.test", krb5ConfPath: p("krb5.conf"), idmapdConfPath: "", gssdConfPath: "", reloadCommand: ["true"] });
    const radius = new OtpRadius("radius", {
      users: [{ name: "alice", password: pulumi.secret(over.alicePassword ?? ALICE_PW), totpSecret: pulumi.secret(TOTP) }],
      radiusSecret: pulumi.secret(RADIUS_SECRET),
      port: RADIUS_PORT,
      configDir: p("radius"),
      runDir: p("run"),
      unitPath: "",
      restartCommands: freeradiusRestartCommands({ configDir: p("radius"), pidFile: p("run/kvmshare-otp.pid") }),
    });
    const realm = new KerberosRealm("realm", {
      realm: REALM,
      masterKey: pulumi.secret(MASTER),
      adminPassword: pulumi.secret(ADMIN_PW),
      kdcPorts: [KDC_PORT],
      kadmindPort: KADMIN_PORT,
      otp: { radiusServer: `127.0.0.1:${RADIUS_PORT}`, radiusSecret: pulumi.secret(RADIUS_SECRET), secretPath: p("radius.secret"), timeoutSeconds: 2, retries: 1 },
      kdcConfPath: p("kdc.conf"),
      krb5ConfPath: p("krb5.conf"),
      databasePath: p("db/principal"),
      stashPath: p("stash"),
      aclPath: p("kadm5.acl"),
      logDir: dir,
      restartCommand: krb5kdcRestartCommand({ krb5Conf: p("krb5.conf"), kdcConf: p("kdc.conf"), pidFile: p("kdc.pid") }),
      allowDestroy: over.allowDestroy ?? false,
    }, { dependsOn: [radius] });
    new KerberosKeytab("kdc-host", { realm, fqdn: FQDN, services: ["host"], keytabPath: p("host.keytab"), reloadCommand: ["true"] });
    new KerberosOtpUser("alice", { realm });
  };

  const kinit = (args: string[], stdin: string) => spawnSync("kinit", args, { env, input: stdin, encoding: "utf8", timeout: 30_000 });
  // rlm_totp (FreeRADIUS 3.2.1) takes only the current 30 s step, and OtpRadius accepts a code
  // once: a token comes from a step no ticket was got with yet, with `margin` seconds of it left.
  let spentStep = -1;
  let tokenStep = -1;
  const token = (margin = 3) => {
    for (;;) {
      const left = 30 - (Math.floor(Date.now() / 1000) % 30);
      tokenStep = Math.floor(Date.now() / 30_000);
      if (left >= margin && tokenStep !== spentStep) break;
      spawnSync("sleep", [String(left + 0.2)]);
    }
    return spawnSync("oathtool", ["--totp", "-b", TOTP], { encoding: "utf8" }).stdout.trim();
  };
  /** kinit, and when it gets a ticket, the last token's step is spent. */
  const kinitOtp = (args: string[], stdin: string) => {
    const r = kinit(args, stdin);
    if (r.status === 0) spentStep = tokenStep;
    return r;
  };
  const armor = () => {
    const r = spawnSync("kinit", ["-k", "-t", p("host.keytab"), "-c", p("armor.cc"), `host/${FQDN}`], { env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    return p("armor.cc");
  };

  test("up stands up the realm, RADIUS, keytab and OTP user; outputs hold no secret", async () => {
    const t0 = Date.now();
    const r = await engine.up(program());
    const seconds = (Date.now() - t0) / 1000;
    process.stderr.write(`[krb5] realm + RADIUS + keytab + OTP user stood up in ${seconds.toFixed(2)} s (this machine, in-process engine)\n`);
    expect(r.errors).toEqual([]);
    // What state keeps in plain text (secret inputs are Pulumi secrets, encrypted by the engine).
    const outputs = JSON.stringify(Object.values(r.outputs).map((o) => [o.observed, o.spec]));
    for (const s of [MASTER, ADMIN_PW, RADIUS_SECRET, ALICE_PW, TOTP]) expect(outputs).not.toContain(s);
    expect(fs.statSync(p("host.keytab")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(p("radius/users")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(p("radius.secret")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(p("kdc.conf"), "utf8")).not.toContain(RADIUS_SECRET);
    expect(fs.readFileSync(p("radius/users"), "utf8")).not.toContain(ALICE_PW);
    const keytab = r.outputs["kdc-host-keytab"].observed as { principals: string[] };
    expect(keytab.principals).toEqual([`host/${FQDN}@${REALM}`]);
  });

  test("password + current TOTP with FAST armor gets a ticket", async () => {
    const r = kinitOtp(["-T", armor(), "-c", p("alice.cc"), "alice"], `${ALICE_PW}${token()}\n`);
    expect(r.stderr.replace(/Enter OTP Token Value:\s*/, "")).toBe("");
    expect(r.status).toBe(0);
    const k = spawnSync("klist", ["-c", p("alice.cc")], { env, encoding: "utf8" });
    expect(k.stdout).toContain(`krbtgt/${REALM}@${REALM}`);
  });

  test("a wrong token, a wrong password, the password alone and no armor are refused", async () => {
    const a = armor();
    const good = token();
    const wrong = String((Number(good) + 500000) % 1000000).padStart(6, "0");
    for (const [label, args, input] of [
      ["wrong token", ["-T", a, "-c", p("x.cc"), "alice"], `${ALICE_PW}${wrong}\n`],
      ["wrong password", ["-T", a, "-c", p("x.cc"), "alice"], `not-${ALICE_PW}${good}\n`],
      ["password alone", ["-T", a, "-c", p("x.cc"), "alice"], `${ALICE_PW}\n`],
      ["no armor (encrypted timestamp with the password)", ["-c", p("x.cc"), "alice"], `${ALICE_PW}${good}\n`],
    ] as const) {
      const r = kinit([...args], input);
      expect({ label, status: r.status }).toEqual({ label, status: 1 });
      expect(r.stderr).toMatch(/Preauthentication failed|Password incorrect|pre-authentication/i);
    }
  });

  test("a code that got a ticket is refused for a second kinit inside the same step (RFC 6238 5.2)", async () => {
    const a = armor();
    const code = token(8);
    const step = tokenStep;
    expect(kinitOtp(["-T", a, "-c", p("alice.cc"), "alice"], `${ALICE_PW}${code}\n`).status).toBe(0);
    const again = kinitOtp(["-T", a, "-c", p("x.cc"), "alice"], `${ALICE_PW}${code}\n`);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/Preauthentication failed|Password incorrect|pre-authentication/i);
    expect(Math.floor(Date.now() / 30_000)).toBe(step); // still the code's own step: rlm_totp alone would have taken it
  });

  test("a second up changes nothing; a hand edit of the RADIUS users is drift, and up repairs it", async () => {
    let r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
    fs.writeFileSync(p("radius/users"), '"alice" SSHA2-512-Password := "AAAA", TOTP-Secret := "AAAAAAAAAAAAAAAA"\n');
    r = await engine.preview(program(), { refresh: true });
    expect(r.changes.map((s) => `${s.name}:${s.diffs.join(",")}`)).toEqual(expect.arrayContaining([expect.stringMatching(/^radius-radius:.*usersCurrent/)]));
    // A real preview stores nothing: the repair is an up that refreshes first.
    r = await engine.up(program(), { refresh: true });
    expect(r.errors).toEqual([]);
    const t = kinitOtp(["-T", armor(), "-c", p("alice.cc"), "alice"], `${ALICE_PW}${token()}\n`);
    expect(t.status).toBe(0);
  });

  test("a new password: the old one stops working, the new one works", async () => {
    const next = `N3w-${rnd(8)}`;
    const r = await engine.up(program({ alicePassword: next }));
    expect(r.errors).toEqual([]);
    expect(kinitOtp(["-T", armor(), "-c", p("x.cc"), "alice"], `${ALICE_PW}${token()}\n`).status).toBe(1);
    expect(kinitOtp(["-T", armor(), "-c", p("x.cc"), "alice"], `${next}${token()}\n`).status).toBe(0);
  });

  test("destroy without allowDestroy keeps the realm's database", async () => {
    const r = await engine.destroy();
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(p("db/principal"))).toBe(true);
    expect(fs.existsSync(p("stash"))).toBe(true);
    expect(fs.existsSync(p("host.keytab"))).toBe(false);
  });
});
