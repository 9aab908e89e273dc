/**
 * SambaServer + SmbShare + SmbUser against a real smbd on 127.0.0.1 and a high port, in a
 * sandbox (config, shares, private tdbsam passdb, state and logs all under a temp dir), driven
 * through the harness engine and checked with smbclient/smbstatus. Users are two existing
 * system accounts (games, man) added to the private passdb only.
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SambaServer, SmbShare, SmbUser } from "../../components/smb";
import { Engine } from "../harness/engine";
import { killQuietly } from "../fixtures/process";
import { sandboxSambaServer, Smbd, startSmbd } from "../fixtures/smbd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(PROGRAMS.samba);

jest.setTimeout(60_000);

const PORT = 24000 + (process.pid % 1000);
// Test's reload: count it, and HUP the smbd this test started (once it runs).
const RELOAD = 'echo reload >> "$2"; if [ -s "$1" ]; then kill -HUP "$(cat "$1")"; fi';
const PASSWORD = `Kvm-${crypto.randomBytes(9).toString("base64url")}`;
const PASSWORD2 = `Kvm2-${crypto.randomBytes(9).toString("base64url")}`;
const MAN_PASSWORD = `Man-${crypto.randomBytes(9).toString("base64url")}`;

describe("hardened SMB3 share on a real smbd", () => {
  let dir: string;
  let engine: Engine;
  let smbd: Smbd | undefined;
  let conf: string;
  let data: string;
  let pidFile: string;
  let counter: string;
  const captured: string[] = [];

  const reloads = () => (fs.existsSync(counter) ? fs.readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0);

  /** smbclient with the password in the environment (never in argv). */
  function smbclient(args: string[], password?: string, share = "data") {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.PASSWD;
    if (password !== undefined) env.PASSWD = password;
    const r = spawnSync("smbclient", [`//127.0.0.1/${share}`, "-p", String(PORT), ...args], { env, encoding: "utf8", timeout: 120_000, cwd: dir });
    return { code: r.status ?? 1, out: (r.stdout ?? "") + (r.stderr ?? "") };
  }

  const program = (opts: { password?: string; share?: Record<string, unknown>; withDenied?: boolean } = {}) => () => {
    const server = new SambaServer("smb", sandboxSambaServer(dir, PORT, ["sh", "-c", RELOAD, "sh", pidFile, counter]));
    const games = new SmbUser("games", { server, password: pulumi.secret(opts.password ?? PASSWORD) });
    new SmbUser("man", { server, password: pulumi.secret(MAN_PASSWORD) });
    new SmbShare("data", { server, path: data, validUsers: [games], hostsAllow: ["127.0.0.1"], ...opts.share });
    if (opts.withDenied) new SmbShare("elsewhere", { server, path: data, validUsers: [games], hostsAllow: ["10.9.9.9"] });
  };

  async function run<T>(f: () => Promise<T>): Promise<T> {
    // Capture the provider's progress log (normally silenced) to prove no secret is in it.
    const orig = process.stderr.write.bind(process.stderr);
    process.env.KVMSHARE_QUIET = "0";
    (process.stderr as unknown as { write: unknown }).write = (chunk: string | Uint8Array) => {
      captured.push(String(chunk));
      return true;
    };
    try {
      return await f();
    } finally {
      (process.stderr as unknown as { write: unknown }).write = orig;
      process.env.KVMSHARE_QUIET = "1";
    }
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-exports-samba-"));
    conf = sandboxSambaServer(dir, PORT).configPath; // the file SambaServer writes
    data = path.join(dir, "data");
    pidFile = path.join(dir, "smbd.pid.test");
    counter = path.join(dir, "reloads");
    fs.chmodSync(dir, 0o755); // games must reach the share below it
    fs.mkdirSync(data);
    fs.chownSync(data, 5, 0); // games owns the share directory
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    try {
      await smbd?.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it("up writes the hardened config, the share and the users, accepted by testparm; smbd serves them", async () => {
    const r = await run(() => engine.up(program()));
    expect(r.errors).toEqual([]);
    const text = fs.readFileSync(conf, "utf8");
    for (const line of ["server min protocol = SMB3_00", "server signing = mandatory", "server smb encrypt = required", "ntlm auth = ntlmv2-only", "restrict anonymous = 2", "map to guest = never", `passdb backend = tdbsam:${dir}/passdb.tdb`, `include = ${dir}/shares.conf`]) {
      expect(text).toContain(`\t${line}\n`);
    }
    expect(fs.readFileSync(path.join(dir, "shares.conf"), "utf8")).toContain(`include = ${dir}/shares.d/data.conf\n`);
    const share = fs.readFileSync(path.join(dir, "shares.d", "data.conf"), "utf8");
    expect(share).toMatch(/\[data\]\n\tpath = .*\n\tvalid users = games\n\tread only = no\n\tcreate mask = 0740\n\tdirectory mask = 0750\n\thosts allow = 127\.0\.0\.1\n\thosts deny = ALL\n/);
    expect(share).toContain("\tguest ok = no\n");
    // testparm (the daemon's parser) accepts the whole result.
    const tp = spawnSync("testparm", ["-s", conf], { encoding: "utf8" });
    expect(tp.status).toBe(0);
    expect(tp.stderr).not.toMatch(/Unknown parameter|Ignoring/);

    smbd = await startSmbd(conf, PORT, { pidFile, ms: 15_000 });
    expect(r.outputs["data-share"].observed).toMatchObject({ indexed: true });
    expect(r.outputs["games-user"].observed).toEqual({ present: true, enabled: true, passwordCurrent: true });
  });

  it("SMB3 with the right password puts and gets a file with identical content", () => {
    const src = path.join(dir, "in.bin");
    fs.writeFileSync(src, crypto.randomBytes(3 * 1024 * 1024 + 17));
    const r = smbclient(["-m", "SMB3", "-U", "games", "-c", "put in.bin copy.bin; get copy.bin out.bin"], PASSWORD);
    expect(r.out).not.toMatch(/NT_STATUS/);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "out.bin")).equals(fs.readFileSync(src))).toBe(true);
    // create mask 0740 on the server side
    expect((fs.statSync(path.join(data, "copy.bin")).mode & 0o777).toString(8)).toBe("740");
  });

  it("a wrong password is refused", () => {
    const r = smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], "not-the-password");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("NT_STATUS_LOGON_FAILURE");
  });

  it("an anonymous login is refused", () => {
    const r = smbclient(["-m", "SMB3", "-N", "-c", "ls"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/NT_STATUS_ACCESS_DENIED|NT_STATUS_LOGON_FAILURE/);
  });

  it.each([
    ["SMB2", "NT_STATUS_NOT_SUPPORTED"],
    ["NT1", "NT_STATUS_INVALID_NETWORK_RESPONSE|NT_STATUS_INVALID_PARAMETER_MIX|NT_STATUS_NOT_SUPPORTED"],
  ])("a client limited to %s is refused", (proto, status) => {
    const r = smbclient(["-m", proto, "--option", "client min protocol=NT1", "-U", "games", "-c", "ls"], PASSWORD);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(new RegExp(`protocol negotiation failed: (${status})`));
  });

  it("the session and the share connection are encrypted (smbstatus)", async () => {
    const env = { ...process.env, PASSWD: PASSWORD };
    const client = spawn("smbclient", ["//127.0.0.1/data", "-p", String(PORT), "-m", "SMB3", "-U", "games"], { env, stdio: ["pipe", "ignore", "ignore"] });
    try {
      let status: { sessions?: Record<string, { username: string; encryption: { cipher: string; degree: string } }>; tcons?: Record<string, { service: string; encryption: { cipher: string; degree: string } }> } = {};
      for (let i = 0; i < 50; i++) {
        const s = spawnSync("smbstatus", ["-s", conf, "--json"], { encoding: "utf8" });
        status = JSON.parse(s.stdout || "{}");
        if (Object.keys(status.tcons ?? {}).length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const sessions = Object.values(status.sessions ?? {}).filter((x) => x.username === "games");
      expect(sessions.length).toBeGreaterThan(0);
      for (const s of sessions) {
        expect(s.encryption.degree).toBe("full");
        expect(s.encryption.cipher).toMatch(/^AES-(128|256)-(GCM|CCM)$/);
      }
      const tcons = Object.values(status.tcons ?? {}).filter((t) => t.service === "data");
      expect(tcons.length).toBeGreaterThan(0);
      for (const t of tcons) expect(t.encryption.degree).toBe("full");
    } finally {
      client.stdin?.end("quit\n");
      if (client.exitCode === null && client.pid) killQuietly(client.pid, "SIGTERM");
    }
  });

  it("a user with a valid password who is not in validUsers is refused", () => {
    const r = smbclient(["-m", "SMB3", "-U", "man", "-c", "ls"], MAN_PASSWORD);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("tree connect failed: NT_STATUS_ACCESS_DENIED");
  });

  it("a second up changes nothing and does not reload smbd", async () => {
    const before = reloads();
    const r = await run(() => engine.up(program()));
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(reloads()).toBe(before);
  });

  it("a share limited to another host refuses this one (hosts allow), after a reload that only adds it", async () => {
    const before = reloads();
    const r = await run(() => engine.up(program({ withDenied: true })));
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["create elsewhere-share"]);
    expect(reloads()).toBe(before + 1);
    const denied = smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD, "elsewhere");
    expect(denied.code).not.toBe(0);
    expect(denied.out).toMatch(/tree connect failed: (NT_STATUS_ACCESS_DENIED|NT_STATUS_BAD_NETWORK_NAME)/);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD).code).toBe(0);
    const gone = await run(() => engine.up(program()));
    expect(gone.errors).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "shares.conf"), "utf8")).not.toContain("elsewhere");
  });

  it("testparm refuses a bad share parameter, and the live share stays as it was", async () => {
    const file = path.join(dir, "shares.d", "data.conf");
    const before = fs.readFileSync(file, "utf8");
    const r = await run(() => engine.up(program({ share: { extraParameters: { oplocks: "maybe" } } })));
    expect(r.errors.join("\n")).toMatch(/testparm refused the new .*data\.conf[\s\S]*not boolean/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("drift: a share edited by hand, or dropped from the index, is reported after refresh; up restores it", async () => {
    const file = path.join(dir, "shares.d", "data.conf");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("\tguest ok = no\n", "\tguest ok = yes\n"));
    const index = path.join(dir, "shares.conf");
    fs.writeFileSync(index, "# emptied by hand\n");
    const p = await run(() => engine.preview(program(), { refresh: true }));
    expect(p.errors).toEqual([]);
    const diffs = p.changes.find((s) => s.op === "update" && s.name === "data-share")?.diffs ?? [];
    expect(diffs).toEqual(expect.arrayContaining(["observed.content", "observed.indexed"]));
    const u = await run(() => engine.up(program()));
    expect(u.errors).toEqual([]);
    expect(fs.readFileSync(file, "utf8")).toContain("\tguest ok = no\n");
    expect(fs.readFileSync(index, "utf8")).toContain(`include = ${file}`);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD).code).toBe(0);
  });

  it("drift: a password changed by hand is reported after refresh, and up sets the declared one again", async () => {
    const set = spawnSync("smbpasswd", ["-c", conf, "-s", "games"], { input: "changed-by-hand\nchanged-by-hand\n", encoding: "utf8" });
    expect(set.status).toBe(0);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD).code).not.toBe(0);
    const p = await run(() => engine.preview(program(), { refresh: true }));
    expect(p.changes.find((s) => s.op === "update" && s.name === "games-user")?.diffs).toContain("observed.passwordCurrent");
    const u = await run(() => engine.up(program()));
    expect(u.errors).toEqual([]);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD).code).toBe(0);
  });

  it("a new password in the program replaces the old one; the old one is refused", async () => {
    const u = await run(() => engine.up(program({ password: PASSWORD2 })));
    expect(u.errors).toEqual([]);
    expect(u.changes.map((s) => s.name)).toEqual(["games-user"]);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD2).code).toBe(0);
    expect(smbclient(["-m", "SMB3", "-U", "games", "-c", "ls"], PASSWORD).out).toContain("NT_STATUS_LOGON_FAILURE");
  });

  it("no password is found in the state file, the captured provider logs, or smbd's logs", () => {
    const state = fs.readFileSync(path.join(dir, "state.json"), "utf8");
    const logs = captured.join("");
    expect(logs).toMatch(/\[kvmshare SmbUser\] (added|set the password of) Samba user games/); // the capture works
    const smbdLogs = fs.readdirSync(dir).filter((f) => f.startsWith("log.")).map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("");
    for (const secret of [PASSWORD, PASSWORD2, MAN_PASSWORD]) {
      expect(state).not.toContain(secret);
      expect(logs).not.toContain(secret);
      expect(smbdLogs).not.toContain(secret);
    }
    // ...nor the NT hashes (as good as the passwords)
    expect(state).not.toMatch(/[0-9A-F]{32}/);
    expect(state).toContain("ciphertext");
  });

  it("measures smbclient put/get MiB/s through the hardened share and apply + reload time", async () => {
    const mib = 256;
    const src = path.join(dir, "big.bin");
    fs.writeFileSync(src, crypto.randomBytes(mib * 1024 * 1024));
    const t0 = process.hrtime.bigint();
    const put = smbclient(["-m", "SMB3", "-U", "games", "-c", "put big.bin big.bin"], PASSWORD2);
    const t1 = process.hrtime.bigint();
    const get = smbclient(["-m", "SMB3", "-U", "games", "-c", "get big.bin big.out"], PASSWORD2);
    const t2 = process.hrtime.bigint();
    expect(put.code).toBe(0);
    expect(get.code).toBe(0);
    expect(crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, "big.out"))).digest("hex")).toBe(crypto.createHash("sha256").update(fs.readFileSync(src)).digest("hex"));
    const rate = (ns: bigint) => (mib / (Number(ns) / 1e9)).toFixed(0);
    const a0 = process.hrtime.bigint();
    const applied = await run(() => engine.up(program({ password: PASSWORD2, share: { readOnly: true } })));
    const a1 = process.hrtime.bigint();
    expect(applied.errors).toEqual([]);
    const noop0 = process.hrtime.bigint();
    await run(() => engine.up(program({ password: PASSWORD2, share: { readOnly: true } })));
    const noop1 = process.hrtime.bigint();
    console.log(
      `samba bench (${mib} MiB, SMB3 AES encrypted, signing mandatory, 127.0.0.1): put ${rate(t1 - t0)} MiB/s, get ${rate(t2 - t1)} MiB/s; ` +
        `share change apply (testparm check + write + index + reload): ${(Number(a1 - a0) / 1e6).toFixed(0)} ms; no-change up: ${(Number(noop1 - noop0) / 1e6).toFixed(0)} ms`,
    );
    fs.rmSync(src);
    fs.rmSync(path.join(dir, "big.out"));
    fs.rmSync(path.join(data, "big.bin"));
  }, 120_000);

  it("shares applied in parallel all end up in the index (locked compare-and-swap)", async () => {
    const { LocalHost } = await import("../../core/connection");
    const { syncShareIndex } = await import("../../components/smb/smbChecks");
    const sdir = path.join(dir, "race.d");
    const index = path.join(dir, "race.conf");
    fs.mkdirSync(sdir);
    const host = new LocalHost();
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        fs.writeFileSync(path.join(sdir, `s${i}.conf`), `[s${i}]\n\tpath = /tmp\n`);
        await syncShareIndex(host, sdir, index);
      }),
    );
    const lines = fs.readFileSync(index, "utf8").split("\n").filter((l) => l.startsWith("include = "));
    expect(lines).toEqual(Array.from({ length: 8 }, (_, i) => `include = ${sdir}/s${i}.conf`));
  });

  it("destroy removes the share, the users and the config", async () => {
    const probe = path.join(dir, "probe.conf");
    fs.writeFileSync(probe, `[global]\n\tpassdb backend = tdbsam:${dir}/passdb.tdb\n\tprivate dir = ${dir}/state/private\n\tlock directory = ${dir}/state/lock\n\tstate directory = ${dir}/state/state\n\tcache directory = ${dir}/state/cache\n`);
    const listUsers = () => spawnSync("pdbedit", ["-s", probe, "-L"], { encoding: "utf8" });
    expect(listUsers().stdout).toMatch(/^games:5:/m);
    const d = await run(() => engine.destroy());
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(conf)).toBe(false);
    expect(fs.existsSync(path.join(dir, "shares.d", "data.conf"))).toBe(false);
    // The private passdb no longer lists the users.
    const users = listUsers();
    expect(users.status).toBe(0);
    expect(fs.existsSync(path.join(dir, "passdb.tdb"))).toBe(true);
    expect(users.stdout).not.toMatch(/^(games|man):/m);
    // the shared data stays
    expect(fs.existsSync(path.join(data, "copy.bin"))).toBe(true);
  });
});

describe("SambaServer keeps what was there before", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-exports-samba-orig-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a config not written by kvmshare is kept as .kvmshare-orig and put back on destroy", async () => {
    const conf = path.join(dir, "smb.conf");
    const original = "[global]\n\tworkgroup = OLDGROUP\n\n[old]\n\tpath = /srv/old\n";
    fs.writeFileSync(conf, original);
    const engine = new Engine({ stateFile: path.join(dir, "state.json") });
    const program = () => {
      new SambaServer("smb", { configPath: conf, sharesDir: path.join(dir, "shares.d"), sharesIndexPath: path.join(dir, "shares.conf"), stateDir: path.join(dir, "state"), reloadCommand: ["true"] });
    };
    const up = await engine.up(program);
    expect(up.errors).toEqual([]);
    expect(fs.readFileSync(conf, "utf8")).toContain("server smb encrypt = required");
    expect(fs.readFileSync(`${conf}.kvmshare-orig`, "utf8")).toBe(original);
    // a second up does not overwrite the kept original with kvmshare's own file
    fs.appendFileSync(conf, "\t# hand edit\n");
    expect((await engine.up(program)).errors).toEqual([]);
    expect(fs.readFileSync(`${conf}.kvmshare-orig`, "utf8")).toBe(original);
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.readFileSync(conf, "utf8")).toBe(original);
    expect(fs.existsSync(`${conf}.kvmshare-orig`)).toBe(false);
  });

  it("a user without a Unix account is refused at preview, with the command that creates one", async () => {
    const engine = new Engine({ stateFile: path.join(dir, "state2.json") });
    const p = await engine.preview(() => {
      new SmbUser("ghost", { configPath: path.join(dir, "smb.conf"), userName: "kvmshare-no-such-user", password: pulumi.secret("x-secret-x") });
    });
    expect(p.errors.join("\n")).toMatch(/name: has no Unix account on local; Samba users need one \(e\.g\. useradd --system --no-create-home --shell \/usr\/sbin\/nologin kvmshare-no-such-user\)/);
    expect(p.errors.join("\n")).not.toContain("x-secret-x");
  });
});
