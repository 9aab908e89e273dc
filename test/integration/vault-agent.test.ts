/**
 * Host certificates from Vault PKI, renewed on the host by Vault Agent: a real Vault
 * (test/fixtures/vault.ts: TLS, file storage, unsealed here) with a PKI role of 30 s certificates
 * and an AppRole allowed to issue them; `VaultAgent` applied through the REAL Pulumi CLI into a
 * temp root; then the real agent, run with the argv of the rendered unit's ExecStart (systemd is
 * not PID 1 here), renders certificate, key and CA and renews the certificate with nobody running
 * kvmshare, running the reload command (a marker: it appends the new serial to a log; Debian 12's
 * Samba 4.17 has no SMB over QUIC/TLS to reload). The secret_id is checked absent from the state,
 * the engine's output and the agent's argv and environment; a hand edit of the agent's config
 * and a changed secret-id file show at `preview --refresh` and `up` repairs both.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { VaultAgent, vaultAgentArgv, resolveVaultAgent } from "../../components/vault";
import { killByPid, sleep } from "../fixtures/process";
import { ensureVaultBinary, startVault, stopVault, VAULT_BUILD_WAIT_MS, VaultServer } from "../fixtures/vault";
import { testEngine, TestEngine } from "../harness/testEngine";
import { requirePrograms } from "../requirePrograms";

jest.setTimeout(300_000);
const describe = requirePrograms(["vault", "openssl", "systemd-analyze", "pulumi"]);
const TTL_S = 30;

describe("VaultAgent: certificates from Vault PKI, renewed by the real Vault Agent, applied through the real CLI", () => {
  let dir: string;
  let vault: VaultServer;
  let engine: TestEngine;
  let agent: ChildProcess | undefined;
  let roleId: string;
  let secretId: string;
  let engineOutput = "";
  const f = (...p: string[]) => path.join(dir, ...p);
  const vaultBinary = execFileSync("sh", ["-c", "command -v vault"], { encoding: "utf8" }).trim();

  const program = () => () =>
    new VaultAgent("web", {
      vaultAddress: vault.addr,
      caCertificate: fs.readFileSync(vault.caFile, "utf8"),
      roleId: pulumi.secret(roleId),
      secretId: pulumi.secret(secretId),
      configDir: f("etc/agent"),
      unitDir: f("etc/units"),
      vaultBinary,
      service: false,
      templates: [
        {
          // One certificate per render: the key and CA of that same issue go out with writeToFile
          // (a second pkiCert template would issue a second certificate).
          contents: [
            '{{ with pkiCert "pki/issue/nfs" "common_name=nfs.example.org" }}{{ .Cert }}',
            `{{ .Key | writeToFile "${f("tls/key.pem")}" "" "" "0600" }}{{ .CA | writeToFile "${f("tls/ca.pem")}" "" "" "0644" }}{{ end }}`,
          ].join(""),
          destination: f("tls/cert.pem"),
          command: ["/bin/sh", "-c", `openssl x509 -noout -serial -in ${f("tls/cert.pem")} >> ${f("reloads.log")}`],
        },
      ],
    });
  const spec = () => resolveVaultAgent("web", { vaultAddress: vault.addr, configDir: f("etc/agent"), unitDir: f("etc/units"), vaultBinary, templates: [] });
  const ssl = (...a: string[]) => execFileSync("openssl", a, { encoding: "utf8" }).trim();
  const serial = () => ssl("x509", "-noout", "-serial", "-in", f("tls/cert.pem"));
  const waitFor = async (what: string, ok: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (ok()) return;
    throw new Error(`${what} did not happen within ${ms} ms; agent log:\n${fs.existsSync(f("agent.log")) ? fs.readFileSync(f("agent.log"), "utf8").slice(-3000) : "(none)"}`);
  };
  const run = async (r: Promise<{ errors: string[] }> | (() => Promise<{ errors: string[] }>)) => {
    const out = await (typeof r === "function" ? r() : r);
    engineOutput += (engine as unknown as { lastOutput?: string }).lastOutput ?? "";
    return out;
  };

  // A cold CI run builds Vault in the background meanwhile (.ci/run): wait for it apart, with room.
  beforeAll(ensureVaultBinary, VAULT_BUILD_WAIT_MS);
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-vault-agent-"));
    vault = await startVault(f("vault"));
    await vault.api("POST", "sys/mounts/pki", { type: "pki", config: { max_lease_ttl: "24h" } });
    await vault.api("POST", "pki/root/generate/internal", { common_name: "kvmshare test PKI", ttl: "24h" });
    await vault.api("POST", "pki/roles/nfs", { allowed_domains: "example.org", allow_subdomains: true, ttl: `${TTL_S}s`, max_ttl: `${TTL_S}s`, key_type: "ec", key_bits: 256 });
    await vault.api("POST", "sys/auth/approle", { type: "approle" });
    await vault.api("POST", "sys/policies/acl/pki-nfs", { policy: 'path "pki/issue/nfs" { capabilities = ["update"] }' });
    await vault.api("POST", "auth/approle/role/agent", { token_policies: ["pki-nfs"], token_ttl: "5m", secret_id_ttl: "0" });
    roleId = ((await vault.api("GET", "auth/approle/role/agent/role-id")).body.data as { role_id: string }).role_id;
    secretId = ((await vault.api("POST", "auth/approle/role/agent/secret-id", {})).body.data as { secret_id: string }).secret_id;
    engine = testEngine({ stateFile: f("state.json") });
  });

  afterAll(async () => {
    try {
      await killByPid(agent);
      if (engine) await engine.destroy().catch(() => undefined);
    } finally {
      await stopVault(vault);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("up writes the agent's config, CA, AppRole id files (0600) and a unit systemd-analyze accepts", async () => {
    const r = await run(engine.up(program()));
    expect(r.errors).toEqual([]);
    for (const [file, mode] of [["etc/agent/role-id", 0o600], ["etc/agent/secret-id", 0o600], ["etc/agent/agent.hcl", 0o644], ["etc/agent/vault-ca.pem", 0o644]] as const) {
      expect({ file, mode: fs.statSync(f(file)).mode & 0o777 }).toEqual({ file, mode });
    }
    expect(fs.readFileSync(f("etc/agent/secret-id"), "utf8")).toBe(secretId);
    const unit = f("etc/units/kvmshare-vault-agent-web.service");
    const v = execFileSync("systemd-analyze", ["verify", "--man=no", "--generators=no", unit], { encoding: "utf8", stdio: "pipe" });
    expect(v).not.toContain(unit);
    expect(fs.readFileSync(unit, "utf8")).toContain(`ExecStart=${vaultAgentArgv(spec()).join(" ")}\n`);
  });

  it("the real agent renders cert, key (0600) and CA, and renews the certificate within two TTLs, running the reload command", async () => {
    const unitText = fs.readFileSync(f("etc/units/kvmshare-vault-agent-web.service"), "utf8");
    const argv = /^ExecStart=(.*)$/m.exec(unitText)![1].split(" ");
    const log = fs.openSync(f("agent.log"), "a");
    // As systemd would start it: the unit's argv, no VAULT_* variables (the config says everything).
    agent = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    fs.closeSync(log);
    await waitFor("the first certificate", () => ["cert", "key", "ca"].every((n) => fs.existsSync(f(`tls/${n}.pem`)) && fs.statSync(f(`tls/${n}.pem`)).size > 0), 30_000);
    const t0 = Date.now();
    const first = serial();
    expect(fs.statSync(f("tls/key.pem")).mode & 0o777).toBe(0o600);
    expect(ssl("pkey", "-pubout", "-in", f("tls/key.pem"))).toBe(ssl("x509", "-noout", "-pubkey", "-in", f("tls/cert.pem")));
    expect(ssl("verify", "-CAfile", f("tls/ca.pem"), f("tls/cert.pem"))).toMatch(/: OK$/);
    await waitFor("a renewed certificate", () => serial() !== first, 2 * TTL_S * 1000);
    const renewedAfter = (Date.now() - t0) / 1000;
    console.log(`vault agent: certificate renewed ${renewedAfter.toFixed(1)} s after the first (TTL ${TTL_S} s)`);
    const second = serial();
    await waitFor("the reload command for the renewed certificate", () => fs.existsSync(f("reloads.log")) && fs.readFileSync(f("reloads.log"), "utf8").includes(second), 10_000);
    const reloads = fs.readFileSync(f("reloads.log"), "utf8").trim().split("\n");
    expect(reloads).toEqual(expect.arrayContaining([first, second]));
    // The renewed key still matches the renewed certificate.
    expect(ssl("pkey", "-pubout", "-in", f("tls/key.pem"))).toBe(ssl("x509", "-noout", "-pubkey", "-in", f("tls/cert.pem")));
  });

  it("the secret_id is nowhere in plain text: state, engine output, the agent's argv and environment", () => {
    const pid = agent!.pid!;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
    expect(cmdline.split("\0")).toEqual([...vaultAgentArgv(spec()), ""]);
    const stored = engine.storedText();
    expect(stored).toContain("kvmshare:vault:VaultAgent");
    for (const [where, text] of [["state", stored], ["engine output", engineOutput], ["agent argv", cmdline], ["agent environment", environ], ["agent log", fs.readFileSync(f("agent.log"), "utf8")]]) {
      expect({ where, secretId: text.includes(secretId), roleId: text.includes(roleId) }).toEqual({ where, secretId: false, roleId: false });
    }
  });

  it("a hand edit of agent.hcl and a changed secret-id file show at preview --refresh; up repairs both", async () => {
    const config = f("etc/agent/agent.hcl");
    const declared = fs.readFileSync(config, "utf8");
    fs.appendFileSync(config, 'template { contents = "x" destination = "/tmp/evil" }\n');
    fs.writeFileSync(f("etc/agent/secret-id"), "stolen-or-stale");
    const p = await engine.preview(program(), { refresh: true });
    engineOutput += (engine as unknown as { lastOutput?: string }).lastOutput ?? "";
    expect(p.errors).toEqual([]);
    const diffs = p.changes.flatMap((c) => c.diffs).join(" ");
    expect(diffs).toContain("drift.files.config.content");
    expect(diffs).toContain("secretIdCurrent");
    expect(fs.readFileSync(config, "utf8")).not.toBe(declared); // preview changed nothing
    const u = await run(engine.up(program(), { refresh: true }));
    expect(u.errors).toEqual([]);
    expect(fs.readFileSync(config, "utf8")).toBe(declared);
    expect(fs.readFileSync(f("etc/agent/secret-id"), "utf8")).toBe(secretId);
    expect(fs.statSync(f("etc/agent/secret-id")).mode & 0o777).toBe(0o600);
    const again = await engine.preview(program(), { refresh: true });
    expect(again.changes).toEqual([]);
    expect(engineOutput.includes(secretId)).toBe(false);
  });
});
