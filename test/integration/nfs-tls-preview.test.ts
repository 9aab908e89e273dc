/**
 * NFS over TLS on a host that cannot do it, through the real Pulumi CLI: this machine (Debian 12,
 * nfs-utils 2.6.2, no ktls-utils; its kernel has no CONFIG_NET_HANDSHAKE) is refused at preview
 * for a Tlshd, a kernel NfsExport with `xprtsec` and a GuestMount with `nfs.xprtsec`, each refusal
 * naming this host's kernel release / nfs-utils version and the minimum, and nothing is written
 * (every path is under a temp dir). The private key given to Tlshd appears neither in the stored
 * state nor in what the engine printed. The positive path (tlshd running, a TLS mount) is the
 * Debian 13 VM lane's. The expectations are computed from this host's own probes, so the test
 * says what it found instead of assuming this machine's kernel.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { NfsExport, Tlshd } from "../../components/nfs";
import { GuestMount } from "../../components/guest";
import { kernelTlsGaps, nfsUtilsGap, parseKernelProbe } from "../../core/rpcTls";
import { CliEngine } from "../harness/cliEngine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(PROGRAMS.kernelNfs, { root: true });
jest.setTimeout(180_000);

const KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const KEY_BODY = KEY.split("\n")[1];
const CERT = `-----BEGIN CERTIFICATE-----\n${crypto.randomBytes(96).toString("base64")}\n-----END CERTIFICATE-----\n`;

/** This host as the preflight sees it: the kernel release and whether it can, and the nfs-utils package version. */
function hostFacts() {
  const release = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
  const config = spawnSync("sh", ["-c", `grep -E '^CONFIG_(NET_HANDSHAKE|TLS)=' /boot/config-${release} 2>/dev/null || zcat /proc/config.gz 2>/dev/null | grep -E '^CONFIG_(NET_HANDSHAKE|TLS)='; echo config-read`], { encoding: "utf8" }).stdout;
  const tls = spawnSync("sh", ["-c", "modinfo tls >/dev/null 2>&1 || [ -d /sys/module/tls ]"]).status === 0;
  const kernelGaps = kernelTlsGaps(parseKernelProbe(`${release}\n${tls ? "tls-module" : "no-tls-module"}\n${config}`));
  const nfsUtils = spawnSync("dpkg-query", ["-W", "-f=${Version}", "nfs-kernel-server"], { encoding: "utf8" }).stdout.trim();
  return { release, kernelGaps, nfsUtils, nfsUtilsGap: nfsUtilsGap(nfsUtils || undefined), tlshd: spawnSync("sh", ["-c", "command -v tlshd || [ -x /usr/sbin/tlshd ]"]).status === 0 };
}

describe("NFS over TLS on a host that cannot do it: refused at preview, nothing written (real CLI)", () => {
  let dir: string;
  let engine: CliEngine;
  const p = (f: string) => path.join(dir, f);
  const facts = hostFacts();

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-nfs-tls-"));
    fs.mkdirSync(p("share"));
    fs.mkdirSync(p("exports.d"));
    fs.mkdirSync(p("units"));
    engine = new CliEngine({ stateFile: p("state.json") });
    process.stderr.write(`[nfs-tls] this host: kernel ${facts.release} (${facts.kernelGaps.length ? `cannot: ${facts.kernelGaps.join("; ")}` : "can"}), nfs-utils ${facts.nfsUtils || "(none)"}, tlshd ${facts.tlshd ? "present" : "absent"}\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Files under the temp dir, but the state the engine keeps there. */
  const written = () => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => !f.startsWith("state") && !["share", "exports.d", "units"].includes(f)).sort();

  test("this host lacks what RPC-with-TLS needs (else this test proves nothing here)", () => {
    expect(facts.kernelGaps.length + (facts.nfsUtilsGap ? 1 : 0) + (facts.tlshd ? 0 : 1)).toBeGreaterThan(0);
  });

  test("Tlshd: refused naming the missing tlshd and the kernel; no config, certificate or key written", async () => {
    const r = await engine.preview(() => {
      new Tlshd("tls", { configPath: p("tlshd.conf"), certDir: p("tlshd"), server: { certificate: CERT, privateKey: pulumi.secret(KEY), trustedCa: CERT }, manageService: false });
    });
    const errors = r.errors.join("\n");
    process.stderr.write(`[nfs-tls] Tlshd preview: ${errors}\n`);
    if (!facts.tlshd) expect(errors).toMatch(/tlshd is not installed on [^;]+(; install ktls-utils|, and ktls-utils is not packaged for Debian GNU\/Linux 12 \(bookworm\) \(Debian ships it from 13, trixie\))/);
    if (facts.kernelGaps.length) {
      expect(errors).toContain(`needs NFS RPC-with-TLS, which`);
      for (const g of facts.kernelGaps) expect(errors).toContain(g);
      expect(errors).toContain("Linux >= 6.5");
    }
    expect(written()).toEqual([]);
    // The key reached the engine (as a secret input) and was refused: it is in neither the stored state nor the engine's output.
    expect(engine.storedText()).not.toContain(KEY_BODY);
    expect(engine.lastOutput).not.toContain(KEY_BODY);
    expect(errors).not.toContain(KEY_BODY);
  });

  test("NfsExport with xprtsec=tls (kernel backend): refused naming the kernel release, the nfs-utils version and the minimums; no export file", async () => {
    const r = await engine.preview(() => {
      new NfsExport("tls-export", { path: p("share"), clients: [{ host: "10.0.0.2", xprtsec: ["tls"] }], exportsDir: p("exports.d"), kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] });
    });
    const errors = r.errors.join("\n");
    process.stderr.write(`[nfs-tls] NfsExport preview: ${errors}\n`);
    expect(errors).toMatch(/xprtsec: needs NFS RPC-with-TLS, which .* cannot do/);
    if (facts.kernelGaps.some((g) => g.includes("Linux >="))) expect(errors).toContain(JSON.stringify(facts.release));
    for (const g of facts.kernelGaps) expect(errors).toContain(g);
    if (facts.nfsUtilsGap) expect(errors).toContain(`its nfs-utils is ${JSON.stringify(facts.nfsUtils)}, and exportfs takes xprtsec= from nfs-utils 2.6.3`);
    expect(fs.readdirSync(p("exports.d"))).toEqual([]);
    expect(written()).toEqual([]);
  });

  test("the same export without xprtsec passes preview (the refusal is TLS's, not the sandbox's)", async () => {
    const r = await engine.preview(() => {
      new NfsExport("plain-export", { path: p("share"), clients: ["10.0.0.2"], exportsDir: p("exports.d"), kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] });
    });
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => [c.op, c.name])).toEqual([["create", "plain-export-export"]]);
  });

  test("GuestMount with nfs.xprtsec=mtls: refused on this kernel; no unit written", async () => {
    const r = await engine.preview(() => {
      new GuestMount("tls-mount", { where: "/mnt/kvmshare-tls-test", unitDir: p("units"), activation: "none", verify: false, nfs: { server: "192.0.2.1", exportPath: "/tank/share", xprtsec: "mtls" } });
    });
    const errors = r.errors.join("\n");
    if (facts.kernelGaps.length) {
      expect(errors).toMatch(/nfs\.xprtsec: needs NFS RPC-with-TLS, which .* cannot do/);
      for (const g of facts.kernelGaps) expect(errors).toContain(g);
    } else expect(errors).toBe("");
    expect(fs.readdirSync(p("units"))).toEqual([]);
  });
});
