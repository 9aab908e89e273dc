/**
 * OtpRadius alone on a real FreeRADIUS (`-d <dir>`, a private pid file, killed by PID), asked
 * with the real radclient: one-time codes are one-time (RFC 6238 5.2). A password + code accepted
 * once is refused when it comes again, for the whole time rlm_totp would still take the code; the
 * next step's code is accepted; another user with the same code is not affected; a refused
 * attempt does not spend the code. The rendered config passes `freeradius -XC`; the server's log
 * holds no code and no secret.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { OtpRadius } from "../../components/kerberos";
import { freeradiusRestartCommands, radiusAuth, stopFreeradius } from "../fixtures/radiusd";
import { testEngine, TestEngine } from "../harness/testEngine";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["freeradius", "radclient", "oathtool"], { root: true });
jest.setTimeout(180_000);

const PORT = 30600 + (process.pid % 500);
const rnd = (n = 12) => crypto.randomBytes(n).toString("base64url").replace(/[^A-Za-z0-9]/g, "x");
const SECRET = `rs${rnd()}`;
const ALICE_PW = `al${rnd(8)}`;
const BOB_PW = `bo${rnd(8)}`;
// Both users hold the same TOTP secret, so one code is valid for both: the cache must keep them apart.
const TOTP = crypto.randomBytes(20).toString("hex").toUpperCase().replace(/[^A-Z2-7]/g, "A").slice(0, 32);

const step = () => Math.floor(Date.now() / 30_000);
const spent: string[] = [];
const code = (s: number) => {
  const c = spawnSync("oathtool", ["--totp", "-b", "-N", `@${s * 30 + 1}`, TOTP], { encoding: "utf8" }).stdout.trim();
  spent.push(c);
  return c;
};
let lastStep = -1;
/**
 * A step no earlier call returned (its code is unspent), once at least `margin` seconds of it are
 * left: rlm_totp 3.2.1 takes only the current step, and a test's requests must fit in one.
 */
const freshStep = (margin = 10): number => {
  for (;;) {
    const left = 30 - (Math.floor(Date.now() / 1000) % 30);
    if (left >= margin && step() > lastStep) return (lastStep = step());
    spawnSync("sleep", [String(left + 0.2)]);
  }
};

describe("OtpRadius on a real FreeRADIUS: a TOTP code is accepted once", () => {
  let dir: string;
  let engine: TestEngine;
  const p = (f: string) => path.join(dir, f);
  const auth = (user: string, password: string) => radiusAuth({ port: PORT, secretFile: p("secret"), user, password });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-radius-"));
    fs.writeFileSync(p("secret"), SECRET, { mode: 0o600 });
    process.env.KVMSHARE_QUIET ??= "1";
    engine = testEngine({ stateFile: p("state.json") });
    const r = await engine.up(() => {
      new OtpRadius("radius", {
        users: [
          { name: "alice", password: pulumi.secret(ALICE_PW), totpSecret: pulumi.secret(TOTP) },
          { name: "bob", password: pulumi.secret(BOB_PW), totpSecret: pulumi.secret(TOTP) },
        ],
        radiusSecret: pulumi.secret(SECRET),
        port: PORT,
        configDir: p("radius"),
        runDir: p("run"),
        unitPath: "",
        restartCommands: freeradiusRestartCommands({ configDir: p("radius"), pidFile: p("run/kvmshare-otp.pid"), logFile: p("radiusd.log") }),
      });
    });
    expect(r.errors).toEqual([]);
    // The server answers (a wrong code is a reject, not silence) before the tests start.
    for (let i = 0; i < 50 && !["accept", "reject"].includes(auth("alice", `${ALICE_PW}000000`)); i++) spawnSync("sleep", ["0.2"]);
  });
  afterAll(() => {
    stopFreeradius(p("run/kvmshare-otp.pid"));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the rendered config passes freeradius -XC", () => {
    const r = spawnSync("freeradius", ["-XC", "-d", p("radius")], { encoding: "utf8" });
    expect(r.stdout).toMatch(/Configuration appears to be OK/);
    expect(r.status).toBe(0);
  });

  test("a code accepted once is refused inside its step; another user's use of it is independent; the next step's code is accepted", () => {
    const s = freshStep();
    const c = code(s);
    expect(auth("alice", `${ALICE_PW}${c}`)).toBe("accept");
    expect(auth("alice", `${ALICE_PW}${c}`)).toBe("reject");
    expect(auth("ALICE", `${ALICE_PW}${c}`)).toBe("reject"); // nor under another spelling of the name
    // bob holds the same TOTP secret: alice having spent the code does not spend it for him, once.
    expect(auth("bob", `${BOB_PW}${c}`)).toBe("accept");
    expect(auth("bob", `${BOB_PW}${c}`)).toBe("reject");
    expect(step()).toBe(s); // all of the above inside one step, or the refusals proved nothing
    const n = freshStep();
    expect(auth("alice", `${ALICE_PW}${code(n)}`)).toBe("accept");
    // The spent code stays spent in the next step too (rlm_totp 3.2.7 still takes it there by default).
    expect(auth("alice", `${ALICE_PW}${c}`)).toBe("reject");
  });

  test("a refused attempt (wrong password) does not spend the code", () => {
    const s = freshStep();
    const c = code(s);
    expect(auth("alice", `not${ALICE_PW}${c}`)).toBe("reject");
    expect(auth("alice", `${ALICE_PW}${c}`)).toBe("accept");
    expect(auth("alice", `${ALICE_PW}${c}`)).toBe("reject");
    expect(step()).toBe(s);
  });

  test("the server's log names the logins, never a code or a password", () => {
    const log = fs.readFileSync(p("radiusd.log"), "utf8");
    expect(log).toMatch(/Login OK: \[alice\]/);
    expect(log).toMatch(/Login incorrect.*\[alice\]/);
    for (const s of spent) expect(log).not.toContain(s);
    for (const secret of [ALICE_PW, BOB_PW, TOTP, SECRET]) expect(log).not.toContain(secret);
  });

  test("the replay cache leaves no file behind: nothing in the config or run directory but what kvmshare wrote", () => {
    expect(fs.readdirSync(p("radius")).sort()).toEqual(["clients.conf", "radiusd.conf", "users"]);
    expect(fs.readdirSync(p("run")).sort()).toEqual(["kvmshare-otp.pid"]);
  });
});
