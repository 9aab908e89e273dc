/**
 * NFS over TLS (RPC-with-TLS, RFC 9289): the `xprtsec` export option and mount option, the Tlshd
 * component (tlshd.conf, certificates, 0600 keys compared in memory, drift), and the preflight
 * that refuses a host whose kernel or nfs-utils cannot do it, from fixed probe outputs.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { PlainNfsExportArgs, resolveNfsExport, validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { kind as exportKind } from "../../components/nfs/nfsExportKind";
import { renderNfsExport } from "../../components/nfs/nfsRender";
import { GuestMountSpec, validateGuestMount } from "../../components/guest/guestMountArgs";
import { renderOptions } from "../../components/guest/mountPlan";
import { guestMountPreflight } from "../../components/guest/guestPreflight";
import { validateHostGuestShare } from "../../components/share/hostGuestShareArgs";
import { PlainTlshdArgs, resolveTlshd, TlshdSpec, validateTlshd } from "../../components/nfs/tlshdArgs";
import { kind as tlshdKind, renderTlshdConf, TlshdState } from "../../components/nfs/tlshdKind";
import { Tlshd } from "../../components/nfs/tlshd";
import { compareObserved } from "../../core/hostKind";
import { formatProblem, Problem } from "../../core/errors";
import { kernelTlsGaps, nfsUtilsGap, parseKernelProbe } from "../../core/rpcTls";
import { FakeHost, mockPulumi, resolved, unwrapSecret } from "./mocks";

const messages = (p: Problem[]) => p.map(formatProblem);

/** A PEM block of `label` around random base64 (shape only: nothing here parses the DER). */
const pem = (label: string) => `-----BEGIN ${label}-----\n${crypto.randomBytes(96).toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;
const CERT = pem("CERTIFICATE");
const CA = pem("CERTIFICATE");
const KEY = crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("NfsExport xprtsec", () => {
  const base = (over: Partial<PlainNfsExportArgs> = {}): PlainNfsExportArgs => ({ path: "/tank/share", clients: ["192.168.122.10"], ...over });

  it("renders xprtsec= in the exports line: colon-separated, in the order given, each once; per client over the export-wide list", () => {
    const s = resolveNfsExport("share", base({ xprtsec: ["mtls", "tls", "mtls"], clients: ["10.0.0.1", { host: "10.0.0.2", xprtsec: ["tls"] }, { host: "10.0.0.3", xprtsec: ["none"] }] }));
    expect(validateNfsExportArgs("share", base({ xprtsec: ["mtls", "tls", "mtls"] }))).toEqual([]);
    expect(renderNfsExport(s)).toMatchSnapshot();
    expect(renderNfsExport(s)).toContain("10.0.0.1(ro,sync,root_squash,no_subtree_check,sec=sys,xprtsec=mtls:tls)");
    expect(renderNfsExport(s)).toContain("10.0.0.3(ro,sync,root_squash,no_subtree_check,sec=sys,xprtsec=none)");
  });

  it("unset: no xprtsec= option (the resolved client has none)", () => {
    const s = resolveNfsExport("share", base());
    expect(s.clients[0].xprtsec).toBeUndefined();
    expect(renderNfsExport(s)).not.toContain("xprtsec");
  });

  it("krb5p combines with mtls", () => {
    const s = resolveNfsExport("share", base({ sec: ["krb5p"], xprtsec: ["mtls"], kerberosRealm: "EXAMPLE.ORG" }));
    expect(validateNfsExportArgs("share", base({ sec: ["krb5p"], xprtsec: ["mtls"], kerberosRealm: "EXAMPLE.ORG" }))).toEqual([]);
    expect(renderNfsExport(s)).toContain("sec=krb5p,xprtsec=mtls");
  });

  it.each([
    ["an empty list", base({ xprtsec: [] }), /^xprtsec: must list one or more of none, tls, mtls .*\(got \[\]\)/],
    ["an unknown policy", base({ xprtsec: ["tls", "ssl" as never] }), /^xprtsec\[1\]: must be one of none, tls, mtls \(got 'ssl'\)/],
    ["a client's unknown policy", base({ clients: [{ host: "10.0.0.2", xprtsec: ["TLS" as never] }] }), /^clients\[0\]\.xprtsec\[0\]: must be one of none, tls, mtls \(got 'TLS'\)/],
    ["a string instead of a list", base({ xprtsec: "tls" as never }), /^xprtsec: must list one or more/],
    ["xprtsec on the ganesha backend", base({ backend: "ganesha", xprtsec: ["tls"] }), /^xprtsec: NFS-Ganesha has no RPC-with-TLS \(RFC 9289\); use backend 'kernel'/],
    ["a client's xprtsec on the ganesha backend", base({ backend: "ganesha", clients: [{ host: "10.0.0.2", xprtsec: ["mtls"] }] }), /^xprtsec: NFS-Ganesha has no RPC-with-TLS.*\(got \["mtls"\]\)/],
    ["xprtsec= through kernel.extraOptions", base({ kernel: { extraOptions: ["xprtsec=tls"] } }), /^kernel\.extraOptions\[0\]: is set by the 'xprtsec' field/],
  ])("refuses %s", (_what, args, re) => {
    const m = messages(validateNfsExportArgs("share", args));
    expect(m.some((x) => re.test(x))).toBe(true);
  });
});

describe("GuestMount nfs.xprtsec", () => {
  const nfs = (over: Record<string, unknown> = {}, top: Partial<GuestMountSpec> = {}): GuestMountSpec => ({ where: "/mnt/share", nfs: { server: "192.168.122.1", exportPath: "/tank/share", ...over }, ...top }) as GuestMountSpec;

  it.each(["tls", "mtls"])("renders xprtsec=%s after the typed options", (x) => {
    expect(validateGuestMount(nfs({ xprtsec: x }))).toEqual([]);
    expect(renderOptions(nfs({ xprtsec: x }))).toEqual(["vers=4.2", "hard", "timeo=600", "retrans=2", "sec=sys", `xprtsec=${x}`]);
  });

  it.each([
    ["an unknown policy", nfs({ xprtsec: "ssl" }), /^nfs\.xprtsec: must be one of tls, mtls \(got 'ssl'\)/],
    ["'none' (the default: leave it unset)", nfs({ xprtsec: "none" }), /^nfs\.xprtsec: must be one of tls, mtls \(got 'none'\)/],
    ["NFSv3 with TLS", nfs({ xprtsec: "tls", version: "3" }), /^nfs\.version: is NFSv3, whose side protocols \(MOUNT, NLM, rpcbind\) are not carried over TLS, with nfs\.xprtsec "tls"; use version "4\.2"/],
    ["xprtsec in options", nfs({}, { options: { xprtsec: "tls" } }), /^options\.xprtsec: is set through nfs\.xprtsec/],
  ])("refuses %s", (_what, spec, re) => {
    expect(messages(validateGuestMount(spec)).some((x) => re.test(x))).toBe(true);
  });
});

describe("HostGuestShare nfs.xprtsec", () => {
  const share = (nfs: Record<string, unknown>) => ({ protocol: "nfs" as const, hostPath: "/tank/share", guest: { address: "192.168.122.10" }, serverAddress: "192.168.122.1", nfs });
  it("takes tls or mtls", () => {
    expect(validateHostGuestShare("s", share({ xprtsec: "mtls" }))).toEqual([]);
  });
  it.each([
    [{ xprtsec: "none" }, /^nfs\.xprtsec: must be one of tls, mtls \(got 'none'\)/],
    [{ xprtsec: "tls", export: { xprtsec: ["mtls"] } }, /^nfs\.export\.xprtsec: is set by nfs\.xprtsec \("tls"\) for both ends; remove it/],
    [{ xprtsec: "tls", mount: { xprtsec: "tls" } }, /^nfs\.mount\.xprtsec: is set by nfs\.xprtsec/],
  ])("refuses %j", (nfs, re) => {
    expect(messages(validateHostGuestShare("s", share(nfs))).some((x) => re.test(x))).toBe(true);
  });
});

describe("Tlshd validation", () => {
  const base = (over: Partial<PlainTlshdArgs> = {}): PlainTlshdArgs => ({ server: { certificate: CERT, privateKey: "set", trustedCa: CA }, ...over });
  const problems = (a: PlainTlshdArgs, secrets: Record<string, unknown> = { "server.privateKey": KEY, "client.privateKey": KEY }) => messages(validateTlshd(resolveTlshd("t", a), secrets));

  it("accepts a server, a tls client and an mtls client", () => {
    expect(problems(base())).toEqual([]);
    expect(problems({ client: { trustedCa: CA } })).toEqual([]);
    expect(problems({ client: { trustedCa: CA, certificate: CERT, privateKey: "set" } })).toEqual([]);
  });

  it("defaults: /etc/tlshd.conf, /etc/tlshd, debug 0, the service managed", () => {
    expect(resolveTlshd("t", base())).toMatchObject({ configPath: "/etc/tlshd.conf", certDir: "/etc/tlshd", debugLevel: 0, manageService: true });
  });

  it.each([
    ["neither end", {}, undefined, /^server\|client: set server .*client .*or both/],
    ["a private key given as the certificate", base({ server: { certificate: KEY, privateKey: "set" } }), undefined, /^server\.certificate: holds a private key \(PRIVATE KEY\), not a certificate: give the key in the privateKey field/],
    ["garbage as the certificate", base({ server: { certificate: "hello", privateKey: "set" } }), undefined, /^server\.certificate: is not a PEM certificate: give the text from -----BEGIN CERTIFICATE-----/],
    ["a CSR as the CA", base({ server: { certificate: CERT, privateKey: "set", trustedCa: pem("CERTIFICATE REQUEST") } }), undefined, /^server\.trustedCa: is not a PEM certificate \(it holds a "CERTIFICATE REQUEST" block\)/],
    ["a server certificate missing", base({ server: { privateKey: "set" } }), undefined, /^server\.certificate: is required/],
    ["a server key missing", base({ server: { certificate: CERT } }), undefined, /^server\.privateKey: is required \(a pulumi\.secret\)/],
    ["a client without its CA", { client: {} }, undefined, /^client\.trustedCa: is required/],
    ["a client certificate without its key", { client: { trustedCa: CA, certificate: CERT } }, undefined, /^client\.privateKey: client\.certificate and client\.privateKey go together/],
    ["a certificate as the private key", base(), { "server.privateKey": CERT }, /^server\.privateKey: holds a certificate, not a private key/],
    ["an encrypted private key", base(), { "server.privateKey": pem("ENCRYPTED PRIVATE KEY") }, /^server\.privateKey: is an encrypted private key, and tlshd cannot ask for a passphrase/],
    ["garbage as the private key", base(), { "server.privateKey": "hunter2" }, /^server\.privateKey: is not a PEM private key/],
    ["debugLevel 4", base({ debugLevel: 4 }), undefined, /^debugLevel: must be an integer from 0 to 3/],
    ["a config path on a key file", base({ configPath: "/etc/tlshd/server.key" }), undefined, /^configPath: is one of the certificate or key files kvmshare writes/],
    ["a config path in /etc/systemd", base({ configPath: "/etc/systemd/system/tlshd.service" }), undefined, /^configPath: .*systemd/],
    ["a relative certDir", base({ certDir: "tlshd" }), undefined, /^certDir: must be an absolute path/],
  ])("refuses %s", (_what, args, secrets, re) => {
    const m = problems(args as PlainTlshdArgs, secrets);
    expect(m.some((x) => re.test(x))).toBe(true);
  });

  it("never puts a private key into a message, even one pasted into a certificate field", () => {
    const all = [...problems(base({ server: { certificate: KEY, privateKey: "set", trustedCa: KEY } }), { "server.privateKey": CERT }), ...problems(base(), { "server.privateKey": KEY.replace("PRIVATE KEY-----\n", "PRIVATE KEY-----\n!") })];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const body = KEY.split("\n")[1];
    for (const m of all) expect(m).not.toContain(body);
  });
});

describe("tlshd.conf", () => {
  const spec = (a: PlainTlshdArgs) => resolveTlshd("nfs-tls", a);
  it("server and mtls client: the sections and keys of tlshd.conf(5), paths in certDir", () => {
    const conf = renderTlshdConf(spec({ debugLevel: 2, server: { certificate: CERT, privateKey: "k", trustedCa: CA }, client: { trustedCa: CA, certificate: CERT, privateKey: "k" } }));
    expect(conf).toMatchSnapshot();
    expect(conf).toContain("[authenticate.server]\nx509.truststore=/etc/tlshd/server-ca.crt\nx509.certificate=/etc/tlshd/server.crt\nx509.private_key=/etc/tlshd/server.key\n");
  });
  it("a tls-only client: the truststore alone; no server section", () => {
    const conf = renderTlshdConf(spec({ certDir: "/srv/tls", client: { trustedCa: CA } }));
    expect(conf).toMatchSnapshot();
    expect(conf).not.toContain("[authenticate.server]");
    expect(conf).toContain("[authenticate.client]\nx509.truststore=/srv/tls/client-ca.crt\n");
  });
});

/** A Debian host for the Tlshd kind: files in a map; systemctl and the probes answered. */
function tlshdHost(files: Record<string, string> = {}) {
  return new FakeHost(files, (argv) => (argv[0] === "systemctl" || argv[0] === "mkdir" ? { code: 0 } : undefined));
}

describe("Tlshd kind: files, keys, drift", () => {
  const s: TlshdSpec = resolveTlshd("t", { server: { certificate: CERT, privateKey: "k", trustedCa: CA } });
  const secrets = { "server.privateKey": KEY };

  async function applied() {
    const host = tlshdHost();
    const desired = tlshdKind.render(s, secrets);
    await tlshdKind.apply(host, { spec: s, desired, live: await tlshdKind.probe(host, s, secrets), secrets, log: () => {} });
    return { host, desired };
  }

  it("writes the key 0600, the certificates and the config 0644, then restarts tlshd if it runs", async () => {
    const { host } = await applied();
    expect(host.files["/etc/tlshd/server.key"]).toBe(KEY);
    expect(host.modes).toMatchObject({ "/etc/tlshd/server.key": "0600", "/etc/tlshd/server.crt": "0644", "/etc/tlshd/server-ca.crt": "0644", "/etc/tlshd.conf": "0644" });
    expect(host.calls.map((c) => c.argv.join(" "))).toContain("systemctl try-restart -- tlshd.service");
  });

  it("state holds no key: the key file is kept as { current, mode }", async () => {
    const { host, desired } = await applied();
    const observed = (await tlshdKind.probe(host, s, secrets))!;
    expect(JSON.stringify(observed)).not.toContain(KEY.split("\n")[1]);
    expect(JSON.stringify(desired)).not.toContain(KEY.split("\n")[1]);
    expect(observed.keys).toEqual({ "/etc/tlshd/server.key": { current: true, mode: "0600" } });
    expect(compareObserved(tlshdKind, desired, observed)).toEqual([]);
  });

  it("nothing changed: no write and no restart", async () => {
    const { host, desired } = await applied();
    host.calls.length = 0;
    await tlshdKind.apply(host, { spec: s, desired, live: await tlshdKind.probe(host, s, secrets), secrets, log: () => {} });
    expect(host.calls.map((c) => c.argv[0]).filter((a) => a === "systemctl")).toEqual([]);
  });

  it.each<[string, (h: FakeHost) => void, string]>([
    ["a hand edit of tlshd.conf", (h) => (h.files["/etc/tlshd.conf"] += "[debug]\nloglevel=9\n"), "files./etc/tlshd.conf"],
    ["another key in the key file", (h) => (h.files["/etc/tlshd/server.key"] = crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString()), "keys./etc/tlshd/server.key"],
    ["the key file made world-readable", (h) => (h.modes["/etc/tlshd/server.key"] = "0644"), "keys./etc/tlshd/server.key"],
    ["a changed certificate", (h) => (h.files["/etc/tlshd/server.crt"] = CA), "files./etc/tlshd/server.crt"],
    ["a removed CA file", (h) => delete h.files["/etc/tlshd/server-ca.crt"], "files./etc/tlshd/server-ca.crt"],
  ])("reports %s as drift and repairs it, restarting tlshd", async (_what, edit, field) => {
    const { host, desired } = await applied();
    edit(host);
    const live = (await tlshdKind.probe(host, s, secrets))!;
    expect(compareObserved(tlshdKind, desired, live)).toEqual([field]);
    host.calls.length = 0;
    await tlshdKind.apply(host, { spec: s, desired, live, secrets, log: () => {} });
    expect(compareObserved(tlshdKind, desired, (await tlshdKind.probe(host, s, secrets))!)).toEqual([]);
    expect(host.calls.map((c) => c.argv.join(" "))).toContain("systemctl try-restart -- tlshd.service");
  });

  it("a key that is not known at this read is neither drift nor repaired blindly", async () => {
    const { host, desired } = await applied();
    const live = (await tlshdKind.probe(host, s, {})) as TlshdState;
    expect(live.keys["/etc/tlshd/server.key"]).toEqual({ current: null, mode: "0600" });
    expect(compareObserved(tlshdKind, desired, live)).toEqual([]);
  });

  it("dropping the client end removes its files", async () => {
    const both = resolveTlshd("t", { server: { certificate: CERT, privateKey: "k" }, client: { trustedCa: CA, certificate: CERT, privateKey: "k" } });
    const sec = { "server.privateKey": KEY, "client.privateKey": KEY };
    const host = tlshdHost();
    await tlshdKind.apply(host, { spec: both, desired: tlshdKind.render(both, sec), live: undefined, secrets: sec, log: () => {} });
    expect(Object.keys(host.files)).toContain("/etc/tlshd/client.key");
    const one = resolveTlshd("t", { server: { certificate: CERT, privateKey: "k" } });
    await tlshdKind.apply(host, { spec: one, desired: tlshdKind.render(one, sec), live: await tlshdKind.probe(host, one, sec), secrets: sec, previous: { spec: both, observed: undefined }, log: () => {} });
    expect(Object.keys(host.files).sort()).toEqual(["/etc/tlshd.conf", "/etc/tlshd/server.crt", "/etc/tlshd/server.key"]);
  });
});

describe("Tlshd component", () => {
  const m = mockPulumi();
  /** The registration of `name`, once the mocks saw it (registrations are asynchronous; bounded wait). */
  const registered = async (name: string) => {
    for (let i = 0; i < 200 && !m.registered.some((r) => r.name === name); i++) await new Promise((r) => setTimeout(r, 25));
    return m.byName(name);
  };
  it("hands the key to the resource as a secret only, and keeps tlshd.service running through a HostService", async () => {
    new Tlshd("tls", { server: { certificate: CERT, privateKey: pulumi.secret(KEY), trustedCa: CA } });
    const cfg = await registered("tls-config");
    await registered("tls-service-service");
    expect(cfg.type).toBe("pulumi-nodejs:dynamic/kvmshare:Tlshd");
    expect(JSON.stringify(cfg.inputs.spec)).not.toContain(KEY.split("\n")[1]);
    expect(unwrapSecret((unwrapSecret(cfg.inputs.secrets) as Record<string, unknown>)["server.privateKey"])).toBe(KEY);
    expect(m.byName("tls-service-service").inputs.spec).toMatchObject({ unit: "tlshd.service", state: "running", enabled: true });
  }, 30_000);
  it("manageService: false leaves the service alone", async () => {
    const t = new Tlshd("tls2", { client: { trustedCa: CA }, manageService: false });
    expect((await registered("tls2-config")).inputs.spec).toBeDefined();
    expect(await resolved(t.unit)).toBe("tlshd.service");
    expect(() => m.byName("tls2-service")).toThrow(/no resource named tls2-service/);
  }, 30_000);
  it("refuses at construction, naming the field", () => {
    expect(() => new Tlshd("bad", { server: { certificate: KEY, privateKey: pulumi.secret(KEY) } })).toThrow(/server\.certificate: holds a private key/);
  });
});

describe("RPC-with-TLS preflight (fixed probe outputs)", () => {
  const KERNEL_612 = "6.12.117+deb13-amd64\ntls-module\nCONFIG_NET_HANDSHAKE=y\nCONFIG_TLS=m\nconfig-read\n";
  const KERNEL_61 = "6.1.0-57-amd64\ntls-module\nCONFIG_TLS=m\nconfig-read\n";
  const KERNEL_618_NO_HANDSHAKE = "6.18.44-fc-v1272\nno-tls-module\nconfig-read\n";

  it.each([
    [KERNEL_612, []],
    [KERNEL_61, [/kernel is "6\.1\.0-57-amd64", and RPC-with-TLS needs Linux >= 6\.5/, /without CONFIG_NET_HANDSHAKE=y/]],
    [KERNEL_618_NO_HANDSHAKE, [/without CONFIG_NET_HANDSHAKE=y/, /without kernel TLS \(CONFIG_TLS\)/]],
    ["6.12.1\nno-tls-module\n", [/no kernel TLS module \(modinfo tls finds none, and no kernel config was readable/]],
    ["6.12.1\ntls-module\n", []],
    ["6.12.1\nno-tls-module\nCONFIG_NET_HANDSHAKE=y\nCONFIG_TLS=m\nconfig-read\n", [/tls module is not installed/]],
  ])("kernel probe %j", (out, expected) => {
    const gaps = kernelTlsGaps(parseKernelProbe(out));
    expect(gaps).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(gaps[i]).toMatch(re));
  });

  it.each([
    ["1:2.6.2-4+deb12u1", /nfs-utils is "1:2\.6\.2-4\+deb12u1", and exportfs takes xprtsec= from nfs-utils 2\.6\.3/],
    ["1:2.8.3-1", undefined],
    ["2.6.3", undefined],
    [undefined, undefined],
  ])("nfs-utils %s", (v, re) => {
    const g = nfsUtilsGap(v);
    if (re) expect(g).toMatch(re);
    else expect(g).toBeUndefined();
  });

  /** A host answering the kernel and nfs-utils probes, the `tlshd` lookup, and an os-release. */
  const probed = (kernel: string, nfsUtils: string | undefined, o: { tlshd?: boolean; osRelease?: string } = {}) =>
    new FakeHost({ "/etc/os-release": o.osRelease ?? 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n' }, (argv) => {
      const script = argv[0] === "sh" ? argv[2] : "";
      if (script.includes("uname -r")) return { stdout: kernel };
      if (script.includes("dpkg-query")) return nfsUtils ? { stdout: nfsUtils + "\n" } : { code: 1 };
      if (script.includes("command -v") && argv[4] === "tlshd") return { code: o.tlshd ? 0 : 1 };
      if (argv[0] === "test" && argv[2] === "/usr/sbin/tlshd") return { code: o.tlshd ? 0 : 1 };
      if (script.includes("command -v")) return { code: 0 };
      return { code: 0 };
    });

  const exportSpec = (xprtsec: ("none" | "tls" | "mtls")[]) => resolveNfsExport("share", { path: "/tank/share", clients: ["10.0.0.2"], xprtsec, check: false });

  it("NfsExport on Debian 12 (6.1, nfs-utils 2.6.2): refused naming both versions and both minimums", async () => {
    const p = await exportKind.preflight!(probed(KERNEL_61, "1:2.6.2-4+deb12u1"), exportSpec(["tls"]));
    const m = messages(p).join("\n");
    expect(m).toMatch(/^xprtsec: needs NFS RPC-with-TLS, which fake cannot do: its kernel is "6\.1\.0-57-amd64", and RPC-with-TLS needs Linux >= 6\.5/m);
    expect(m).toMatch(/its nfs-utils is "1:2\.6\.2-4\+deb12u1", and exportfs takes xprtsec= from nfs-utils 2\.6\.3/);
    expect(m).toMatch(/\(got \["tls"\]\)$/);
  });

  it("NfsExport on Debian 13 (6.12, nfs-utils 2.8.3): accepted", async () => {
    expect(await exportKind.preflight!(probed(KERNEL_612, "1:2.8.3-1"), exportSpec(["tls", "mtls"]))).toEqual([]);
  });

  it("NfsExport with xprtsec=none only: the kernel is not asked, nfs-utils still is", async () => {
    const host = probed(KERNEL_61, "1:2.6.2-4+deb12u1");
    const m = messages(await exportKind.preflight!(host, exportSpec(["none"])));
    expect(m).toHaveLength(1);
    expect(m[0]).not.toMatch(/kernel/);
    expect(m[0]).toMatch(/nfs-utils is "1:2\.6\.2/);
  });

  it("NfsExport without xprtsec: no TLS probe at all", async () => {
    const host = probed(KERNEL_61, "1:2.6.2-4+deb12u1");
    await exportKind.preflight!(host, resolveNfsExport("share", { path: "/tank/share", clients: ["10.0.0.2"], check: false }));
    expect(host.calls.some((c) => c.argv.join(" ").includes("uname -r"))).toBe(false);
  });

  it("GuestMount with xprtsec on a 6.1 guest: refused on nfs.xprtsec; on 6.12 accepted", async () => {
    const spec = { where: "/mnt/share", nfs: { server: "192.168.122.1", exportPath: "/tank/share", xprtsec: "tls" }, activation: "none", verify: false } as GuestMountSpec;
    expect(messages(await guestMountPreflight(probed(KERNEL_61, undefined), spec))).toEqual([expect.stringMatching(/^nfs\.xprtsec: needs NFS RPC-with-TLS, which fake cannot do: its kernel is "6\.1\.0-57-amd64".*\(got 'tls'\)$/s)]);
    expect(await guestMountPreflight(probed(KERNEL_612, undefined), spec)).toEqual([]);
  });

  it.each([
    ['PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', /tlshd is not installed on fake, and ktls-utils is not packaged for Debian GNU\/Linux 12 \(bookworm\) \(Debian ships it from 13, trixie\)/],
    ['PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\n', /tlshd is not installed on fake; install ktls-utils \(or set hostSetup: true\)/],
  ])("Tlshd without tlshd: %#", async (osRelease, re) => {
    const p = await tlshdKind.preflight!(probed(KERNEL_612, undefined, { osRelease }), resolveTlshd("t", { client: { trustedCa: CA } }));
    expect(messages(p)).toEqual([expect.stringMatching(re)]);
  });

  it("Tlshd with tlshd on Debian 13's kernel: accepted; on this kind of kernel without the handshake: refused", async () => {
    const spec = resolveTlshd("t", { client: { trustedCa: CA } });
    expect(await tlshdKind.preflight!(probed(KERNEL_612, undefined, { tlshd: true }), spec)).toEqual([]);
    expect(messages(await tlshdKind.preflight!(probed(KERNEL_618_NO_HANDSHAKE, undefined, { tlshd: true }), spec))).toEqual([expect.stringMatching(/^client: needs NFS RPC-with-TLS, which fake cannot do: .*CONFIG_NET_HANDSHAKE.*or declare no Tlshd on it/)]);
  });
});
