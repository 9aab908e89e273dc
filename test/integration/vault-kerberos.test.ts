/**
 * examples/nfs-kerberos under Vault, through the REAL Pulumi CLI against a real Vault: the stack is
 * created with `--secrets-provider hashivault://<transit key>`, and the realm's keys (KDC master
 * key, admin password, RADIUS secret, the user's password and TOTP secret) live in Vault's KV store
 * and are read from there (`readVaultField`, what `vaultSecret` wraps) into the stack's secret
 * config. The example stands up its realm; the master key reaches `kdb5_util` on stdin only
 * (a shim records the argv and environment of every kdb5_util/kadmin.local run); state, stack
 * settings and the engine's output hold Vault ciphertext only; the keytab the realm made gets a
 * ticket, so the keys that went through Vault are the realm's.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readVaultField } from "../../components/vault";
import { stopKrb5kdc } from "../fixtures/krb5kdc";
import { recordingShims } from "../fixtures/process";
import { stopFreeradius } from "../fixtures/radiusd";
import { ensureVaultBinary, startVault, stopVault, VAULT_BUILD_WAIT_MS, VaultServer } from "../fixtures/vault";
import { packKvmshare, projectFromDir, RealEngine, requirePulumiCli } from "../harness/realEngine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

jest.setTimeout(600_000);
const describe = requirePrograms([...PROGRAMS.kerberos, "exportfs", "vault", "openssl", "pulumi"], { root: true });

const rand = (n: number) => crypto.randomBytes(n).toString("base64url").replace(/[-_]/g, "x");
const KEYS = {
  kdcMasterKey: `mk-${rand(12)}`,
  kdcAdminPassword: `ad-${rand(12)}`,
  radiusSecret: `rs-${rand(12)}`,
  otpPassword: `pw-${rand(9)}`,
  otpTotpSecret: Array.from(crypto.randomBytes(32), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b & 31]).join(""),
};

describe("examples/nfs-kerberos with its keys in Vault: hashivault:// state, KV secrets to kdb5_util on stdin only", () => {
  let dir: string;
  let project: string;
  let vault: VaultServer;
  let engine: RealEngine;
  let toolLog: string;
  let output = "";
  const stack = `vkrb${process.pid}`;

  // A cold CI run builds Vault in the background meanwhile (.ci/run): wait for it apart, with room.
  beforeAll(ensureVaultBinary, VAULT_BUILD_WAIT_MS);
  beforeAll(async () => {
    requirePulumiCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-vault-krb5-"));
    fs.mkdirSync(path.join(dir, "srv/krb5share"), { recursive: true });
    vault = await startVault(path.join(dir, "vault"));
    await vault.api("POST", "sys/mounts/transit", { type: "transit" });
    await vault.api("POST", "transit/keys/kvmshare", {});
    await vault.api("POST", "sys/mounts/secret", { type: "kv", options: { version: "2" } });
    await vault.api("POST", "secret/data/kvmshare/kerberos", { data: KEYS });

    // The keys come out of Vault's KV (the HTTP API vaultSecret uses) and into secret config.
    const fromVault: Record<string, { secret: string }> = {};
    for (const field of Object.keys(KEYS)) {
      fromVault[field] = { secret: await readVaultField("kvmshare/kerberos", field, { address: vault.env.VAULT_ADDR, token: vault.env.VAULT_TOKEN, caCertFile: vault.env.VAULT_CACERT }) };
    }
    expect(Object.fromEntries(Object.entries(fromVault).map(([k, v]) => [k, v.secret]))).toEqual(KEYS);

    // Shims that record the argv and environment the provider gives the tools that take secrets.
    const { shims, log } = recordingShims(dir, ["kdb5_util", "kadmin.local"]);
    toolLog = log;
    const kdcPort = 29400 + (process.pid % 400);
    project = projectFromDir(path.join(__dirname, "../../examples/nfs-kerberos"), packKvmshare());
    engine = new RealEngine({
      workDir: project,
      stack,
      secretsProvider: "hashivault://kvmshare",
      env: { ...vault.env, PATH: `${shims}:${process.env.PATH}` },
      config: { sandbox: dir, kdcPort: String(kdcPort), radiusPort: String(kdcPort + 500), guestAddress: "127.0.0.1", ...fromVault },
    });
  });

  afterAll(async () => {
    try {
      if (engine) await engine.dispose();
    } finally {
      if (dir) {
        stopKrb5kdc(path.join(dir, "run/krb5kdc.pid"));
        stopFreeradius(path.join(dir, "run/kvmshare-otp.pid"));
      }
      if (vault) await stopVault(vault);
      if (project) fs.rmSync(project, { recursive: true, force: true });
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pulumi up under hashivault:// stands the realm up with the keys from Vault; the keytab gets a ticket", async () => {
    const r = await engine.up();
    output += engine.lastOutput;
    expect(r.errors).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "etc/exports.d/krb5share.exports"), "utf8")).toMatch(/sec=krb5p/);
    const env = { ...process.env, KRB5_CONFIG: path.join(dir, "etc/krb5.conf") };
    const kinit = spawnSync("kinit", ["-k", "-t", path.join(dir, "etc/krb5.keytab"), "-c", path.join(dir, "host.cc"), "host/nfs.kvmshare.test"], { env, encoding: "utf8" });
    expect({ status: kinit.status, stderr: kinit.stderr }).toEqual({ status: 0, stderr: "" });
  });

  it("the master key reached kdb5_util on stdin: no kdb5_util or kadmin.local argv or environment holds a key", () => {
    const log = fs.readFileSync(toolLog, "utf8");
    expect(log).toMatch(/argv: \S*kdb5_util .*create/);
    for (const [name, value] of Object.entries(KEYS)) expect({ name, inToolArgvOrEnv: log.includes(value) }).toEqual({ name, inToolArgvOrEnv: false });
  });

  it("state and stack settings hold Vault ciphertext only; the engine's output shows no key", () => {
    const settings = fs.readFileSync(path.join(project, `Pulumi.${stack}.yaml`), "utf8");
    expect(settings).toMatch(/secretsprovider: hashivault:\/\/kvmshare/);
    const dataKey = Buffer.from(/encryptedkey:\s*([A-Za-z0-9+/=]+)/.exec(settings)?.[1] ?? "", "base64").toString();
    expect(dataKey).toMatch(/^vault:v1:/);
    const state = engine.stateFiles().map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(state).toMatch(/"url":\s*"hashivault:\/\/kvmshare"/);
    expect(state).toMatch(/"ciphertext":\s*"v1:[^"]+"/);
    for (const [name, value] of Object.entries(KEYS)) {
      for (const [where, text] of [["state", state], ["stack settings", settings], ["engine output", output]]) {
        expect({ name, where, found: text.includes(value) }).toEqual({ name, where, found: false });
      }
    }
  });
});
