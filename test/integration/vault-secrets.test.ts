/**
 * Keys in Vault, through the REAL Pulumi CLI against a real Vault (scripts/vault.sh builds it;
 * test/fixtures/vault.ts runs it on 127.0.0.1 with TLS, file storage, initialised and unsealed
 * here): a stack created with `--secrets-provider hashivault://<transit key>` runs the quick start
 * plus a Samba user and an OTP RADIUS server whose secrets come from Vault's KV store
 * (`vaultSecret`). Every secret is checked absent in plain text from the state, the stack
 * settings, the engine's output and the argv/environment of the tools that receive it; a sealed
 * or unreachable Vault stops the preview with a clear error and changes nothing on the host.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readVaultField } from "../../components/vault";
import { freePort, recordingShims } from "../fixtures/process";
import { ensureVaultBinary, startVault, stopVault, VAULT_BUILD_WAIT_MS, VaultServer } from "../fixtures/vault";
import { RealEngine, requirePulumiCli } from "../harness/realEngine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

jest.setTimeout(600_000);
const PROJECT = path.join(__dirname, "vaultStack");
const describe = requirePrograms([...PROGRAMS.samba, "vault", "openssl", "freeradius", "exportfs", "systemd-analyze", "pulumi"]);

const rand = (n: number) => crypto.randomBytes(n).toString("base64url").replace(/[-_]/g, "x");
const SMB_PW = `Smb-${rand(12)}`;
const SMB_PW2 = `Smb2-${rand(12)}`;
const ALICE_PW = `Alice-${rand(12)}`;
const RADIUS_SECRET = `Rad${rand(18)}`;
const TOTP = Array.from(crypto.randomBytes(32), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32]).join("");
const SECRETS = { SMB_PW, SMB_PW2, ALICE_PW, RADIUS_SECRET, TOTP };

describe("Vault: stack secrets through hashivault://, KV secrets into SmbUser and OtpRadius, real CLI", () => {
  let dir: string;
  let vault: VaultServer;
  let engine: RealEngine;
  let engineOutput = "";
  let toolLog: string;
  const stack = `vault${process.pid}`;

  /** Every file under the test's host directories, with mode and content hash: "the host". */
  const hostSnapshot = () => {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        const st = fs.lstatSync(p);
        if (e.isDirectory()) walk(p);
        else out[p] = `${st.mode.toString(8)} ${e.isFile() ? crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex") : "other"}`;
      }
    };
    for (const d of ["qs", "smb", "radius", "run"]) if (fs.existsSync(path.join(dir, d))) walk(path.join(dir, d));
    return out;
  };
  const run = async <T extends { errors: string[] }>(f: () => Promise<T>): Promise<T> => {
    const r = await f();
    engineOutput += engine.lastOutput;
    return r;
  };

  // A cold CI run builds Vault in the background meanwhile (.ci/run): wait for it apart, with room.
  beforeAll(ensureVaultBinary, VAULT_BUILD_WAIT_MS);
  beforeAll(async () => {
    requirePulumiCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-vault-"));
    for (const sub of ["qs/srv/share", "qs/etc/exports.d", "qs/guest", "smb", "vault"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, "qs/source.bin"), crypto.randomBytes(2 * 1024 * 1024 + 3));
    vault = await startVault(path.join(dir, "vault"));
    await vault.api("POST", "sys/mounts/transit", { type: "transit" });
    await vault.api("POST", "transit/keys/kvmshare", {});
    await vault.api("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
    await vault.api("POST", "secret/data/kvmshare/smb", { data: { password: SMB_PW } });
    await vault.api("POST", "secret/data/kvmshare/radius", { data: { secret: RADIUS_SECRET, alicePassword: ALICE_PW } });

    // Shims that record the argv and environment the provider gives the tools that take secrets.
    const { shims, log } = recordingShims(dir, ["smbpasswd", "pdbedit", "freeradius"]);
    toolLog = log;
    engine = new RealEngine({
      workDir: PROJECT,
      stack,
      secretsProvider: "hashivault://kvmshare",
      env: { ...vault.env, PATH: `${shims}:${process.env.PATH}` },
      config: { dir, smbPort: String(await freePort()), radiusPort: String(20000 + (process.pid % 10000)), aliceTotp: { secret: TOTP } },
    });
  });

  afterAll(async () => {
    try {
      if (engine) await engine.dispose();
    } finally {
      await stopVault(vault);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("up under the hashivault:// provider: quick start, and the Vault KV secrets reach smbpasswd and FreeRADIUS", async () => {
    const t0 = Date.now();
    const r = await run(() => engine.up());
    console.log(`vault stack: up of ${r.changes.length} resources in ${Date.now() - t0} ms`);
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.type.split(":").pop())).toEqual(expect.arrayContaining(["NfsExport", "GuestMount", "ParallelTransfer", "ManagedFile", "SmbUser", "OtpRadius"]));
    // smbpasswd got the Vault password: the provider's own check compares the stored NT hash.
    expect(r.outputs["games-user"].observed).toEqual({ present: true, enabled: true, passwordCurrent: true });
    // FreeRADIUS's clients.conf holds the shared secret (0600: the one place it belongs).
    const clients = path.join(dir, "radius/clients.conf");
    expect(fs.readFileSync(clients, "utf8")).toContain(RADIUS_SECRET);
    expect(fs.statSync(clients).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, "qs/srv/share/source.bin")).equals(fs.readFileSync(path.join(dir, "qs/source.bin")))).toBe(true);
  });

  it("the stack's data key is Vault transit ciphertext, and state, settings and output hold no secret in plain text", () => {
    // Pulumi's cloud secrets managers encrypt a data key with the KMS (here: Vault transit) and
    // the secrets with that key, so no secret can be read back without Vault.
    const vaultKey = (text: string) => Buffer.from(/"?encryptedkey"?:\s*"?([A-Za-z0-9+/=]+)/.exec(text)?.[1] ?? "", "base64").toString();
    const settings = fs.readFileSync(path.join(PROJECT, `Pulumi.${stack}.yaml`), "utf8");
    expect(settings).toMatch(/secretsprovider: hashivault:\/\/kvmshare/);
    expect(vaultKey(settings)).toMatch(/^vault:v1:[A-Za-z0-9+/=]{40,}$/);
    expect(settings).toMatch(/secure: v1:/);
    const state = engine.stateFiles().map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(/"url":\s*"hashivault:\/\/kvmshare"/.test(state)).toBe(true);
    expect(vaultKey(state)).toBe(vaultKey(settings));
    expect(/"ciphertext":\s*"v1:[^"]+"/.test(state)).toBe(true);
    for (const [name, value] of Object.entries(SECRETS)) {
      for (const [where, text] of [["state", state], ["stack settings", settings], ["engine output", engineOutput]]) {
        expect({ name, where, found: text.includes(value) }).toEqual({ name, where, found: false });
      }
    }
  });

  it("no secret in the argv or environment of smbpasswd/pdbedit/freeradius as the provider runs them", () => {
    const log = fs.readFileSync(toolLog, "utf8");
    expect(log).toMatch(/argv: \S*smbpasswd /); // the shims ran
    expect(log).toMatch(/argv: \S*freeradius -C /);
    for (const [name, value] of Object.entries(SECRETS)) expect({ name, found: log.includes(value) }).toEqual({ name, found: false });
  });

  it("a password rotated in Vault reaches the host at the next up (no copy in stack config to go stale)", async () => {
    await vault.api("POST", "secret/data/kvmshare/smb", { data: { password: SMB_PW2 } });
    const r = await run(() => engine.up());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.name)).toEqual(["games-user"]);
    expect(r.outputs["games-user"].observed).toEqual({ present: true, enabled: true, passwordCurrent: true });
    const state = engine.stateFiles().map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(state.includes(SMB_PW2)).toBe(false);
  });

  it("vaultSecret's errors against the real Vault name path, field and fix, never a value", async () => {
    const conn = { address: vault.addr, token: vault.rootToken, caCertFile: vault.caFile };
    await expect(readVaultField("kvmshare/smb", "password", conn)).resolves.toBe(SMB_PW2);
    await expect(readVaultField("kvmshare/smb", "passwd", conn)).rejects.toThrow('vaultSecret("secret/kvmshare/smb"): field "passwd" is not there (fields: "password")');
    await expect(readVaultField("kvmshare/nothing", "x", conn)).rejects.toThrow(/no secret there: write it with `vault kv put secret\/kvmshare\/nothing x=-`/);
    const weak = (await vault.api("POST", "auth/token/create", { policies: ["default"], ttl: "5m" })).body.auth as { client_token: string };
    await expect(readVaultField("kvmshare/smb", "password", { ...conn, token: weak.client_token })).rejects.toThrow(/Vault answers 403 \(permission denied\): the token needs a policy with "read" on secret\/data\/kvmshare\/smb/);
    await vault.seal();
    try {
      const e = await readVaultField("kvmshare/smb", "password", conn).catch((x: Error) => x);
      expect(String(e)).toMatch(/Vault answers 503 \(Vault is sealed\): unseal it/);
      expect(String(e)).not.toContain(SMB_PW2);
    } finally {
      await vault.unseal();
    }
  });

  it("a sealed Vault stops preview with a clear error; nothing on the host changes", async () => {
    const before = hostSnapshot();
    await vault.seal();
    try {
      const p = await run(() => engine.preview());
      expect(p.errors.join("\n")).toMatch(/sealed/i);
      expect(p.changes).toEqual([]);
    } finally {
      await vault.unseal();
    }
    expect(hostSnapshot()).toEqual(before);
  });

  it("an unreachable Vault stops preview naming the address; nothing on the host changes", async () => {
    const before = hostSnapshot();
    const gone = `https://127.0.0.1:${await freePort()}`;
    const away = new RealEngine({ workDir: PROJECT, stack, backendDir: engine.backendDir, env: { ...vault.env, VAULT_ADDR: gone } });
    const p = await away.preview();
    engineOutput += away.lastOutput;
    expect(p.errors.join("\n")).toContain(gone.replace("https://", ""));
    expect(p.errors.join("\n")).toMatch(/connection refused|cannot reach/i);
    expect(hostSnapshot()).toEqual(before);
  });

  it("destroy removes what the stack made; the engine's output never showed a secret", async () => {
    const d = await run(() => engine.destroy());
    expect(d.errors).toEqual([]);
    expect(d.changes.every((s) => s.op === "delete")).toBe(true);
    expect(fs.existsSync(path.join(dir, "qs/README.kvmshare"))).toBe(false);
    for (const [name, value] of Object.entries(SECRETS)) expect({ name, found: engineOutput.includes(value) }).toEqual({ name, found: false });
  });
});
