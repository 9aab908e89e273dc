/**
 * VM lane, Debian 13 (trixie) only: NFS over TLS (RPC-with-TLS, RFC 9289) on one guest that is
 * both server and client over loopback (kernel 6.12, CONFIG_NET_HANDSHAKE, ktls-utils' tlshd).
 *
 * The PKI is made on this machine with openssl (a test CA, a server certificate naming the guest,
 * a client certificate, plus a client certificate from another CA and an expired one) and reaches
 * the guest only through `Tlshd` (keys as Pulumi secrets). The guest runs the `krb5` image, so the
 * same export can also be measured with sec=krb5p (a realm stood up by KerberosRealm, the machine
 * credentials of root from the host keytab).
 *   (a) a marker written through an `xprtsec=tls` GuestMount is absent from a tcpdump of port 2049
 *       on lo, which holds TLS application-data records (type 0x17, version 0x0303) adding up to at
 *       least the write; the same marker through a plain mount is in its capture (the check can fail);
 *   (b) an `xprtsec=mtls` export refuses a client without a certificate, with another CA's and with
 *       an expired one, and accepts the right one;
 *   (c) tlshd.conf edited by hand is drift at refresh and `up` puts it back;
 *   (d) throughput of sys, tls, mtls, krb5p (and krb5p over tls) on the same export, printed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host, LocalHost } from "../../core/connection";
import { GuestMount } from "../../components/guest";
import { KerberosClient, KerberosKeytab, KerberosRealm } from "../../components/kerberos";
import { NfsExport, Tlshd } from "../../components/nfs";
import { Engine } from "../harness/engine";
import { describeVm, scenario, useGuest } from "./lane";

const FQDN = "nfs.kvmshare.test";
const ADDR = "10.0.2.15";
/**
 * Linux shares one NFS client, and so its transport security, between every NFSv4.1+ mount of the
 * same server, also by another address (trunking discovery: the server owner is the same).
 * Measured here: a `sec=sys` mount of FQDN made while an `xprtsec=tls` mount existed (of FQDN, or
 * of 127.0.0.1) came up with `xprtsec=tls`. So every hand mount is made while no other NFS mount
 * exists (the tls GuestMount's unit is stopped meanwhile), its options checked.
 */
const TLS_UNIT = "mnt-tls.mount";
const REALM = "KVMSHARE.TEST";
const SHARE = "/srv/tls";
const MTLS_SHARE = "/srv/mtls";
const TLS_MOUNT = "/mnt/tls";
const rnd = (n = 12) => crypto.randomBytes(n).toString("base64url");
const MASTER = `mk-${rnd()}`;
const ADMIN_PW = `ad-${rnd()}`;
/** dd size of the throughput rows (MiB). */
const DD_MIB = Number(process.env.KVMSHARE_VM_TLS_DD_MIB || 128);

const local = new LocalHost();

interface Cert {
  certificate: string;
  privateKey: string;
}

interface Pki {
  ca: string;
  server: Cert;
  client: Cert;
  otherCaClient: Cert;
  expiredClient: Cert;
}

/**
 * A test PKI made with openssl on this machine (ECDSA P-256): `openssl ca` signs every leaf, so an
 * expired certificate is a plain `-startdate/-enddate` in the past.
 */
async function makePki(dir: string): Promise<Pki> {
  const run = (...argv: string[]) => local.run(["openssl", ...argv], { timeoutMs: 60_000 });
  const ca = async (name: string) => {
    const d = path.join(dir, name);
    fs.mkdirSync(path.join(d, "newcerts"), { recursive: true });
    fs.writeFileSync(path.join(d, "index.txt"), "");
    fs.writeFileSync(path.join(d, "serial"), "1000\n");
    fs.writeFileSync(
      path.join(d, "ca.cnf"),
      `[ca]\ndefault_ca = d\n[d]\ndir = ${d}\ndatabase = ${d}/index.txt\nnew_certs_dir = ${d}/newcerts\ncertificate = ${d}/ca.crt\nprivate_key = ${d}/ca.key\nserial = ${d}/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n`,
    );
    await run("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${d}/ca.key`, "-out", `${d}/ca.crt`, "-days", "30",
      "-subj", `/CN=kvmshare ${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    return d;
  };
  const leaf = async (caDir: string, name: string, cn: string, ext: string, dates: string[] = ["-days", "30"]): Promise<Cert> => {
    const base = path.join(dir, name);
    fs.writeFileSync(`${base}.ext`, `[x]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n${ext}\n`);
    await run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${cn}`);
    await run("ca", "-batch", "-notext", "-config", `${caDir}/ca.cnf`, "-extfile", `${base}.ext`, "-extensions", "x", ...dates, "-in", `${base}.csr`, "-out", `${base}.crt`);
    return { certificate: fs.readFileSync(`${base}.crt`, "utf8"), privateKey: fs.readFileSync(`${base}.key`, "utf8") };
  };
  const good = await ca("test-ca");
  const other = await ca("other-ca");
  const clientExt = "extendedKeyUsage = clientAuth";
  return {
    ca: fs.readFileSync(`${good}/ca.crt`, "utf8"),
    server: await leaf(good, "server", FQDN, `extendedKeyUsage = serverAuth\nsubjectAltName = DNS:${FQDN},IP:${ADDR},IP:127.0.0.1`),
    client: await leaf(good, "client", "guest-client", clientExt),
    otherCaClient: await leaf(other, "other-client", "guest-client", clientExt),
    expiredClient: await leaf(good, "expired-client", "guest-client", clientExt, ["-startdate", "20240101000000Z", "-enddate", "20240201000000Z"]),
  };
}

async function sh(host: Host, script: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await host.run(["sh", "-c", script, "sh", ...args], { check: false, timeoutMs: 600_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

/** TLS records found in the TCP payload of a pcap (Ethernet/IPv4 on lo), per content type. */
export interface TlsRecordCount {
  records: number;
  /** Records of type 0x17 (application data) and their total length. */
  appData: number;
  appDataBytes: number;
  /** TCP payload bytes in the capture. */
  payloadBytes: number;
}

/**
 * Reads a classic pcap (link type 1), joins each TCP flow's payload in capture order and walks it
 * as a chain of TLS records (`type 0x14-0x17, 0x03 0x03, length`): a flow counts only where the
 * chain runs from its first record header to the end of the flow (a capture may start mid-record).
 */
export function tlsRecords(pcap: Buffer): TlsRecordCount {
  const out: TlsRecordCount = { records: 0, appData: 0, appDataBytes: 0, payloadBytes: 0 };
  if (pcap.length < 24 || pcap.readUInt32LE(0) !== 0xa1b2c3d4 || pcap.readUInt32LE(20) !== 1) throw new Error("not a little-endian Ethernet pcap");
  const flows = new Map<string, Buffer[]>();
  for (let off = 24; off + 16 <= pcap.length; ) {
    const incl = pcap.readUInt32LE(off + 8);
    const pkt = pcap.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (pkt.length < 34 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ip = pkt.subarray(14);
    const ihl = (ip[0] & 15) * 4;
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
    const payload = tcp.subarray((tcp[12] >> 4) * 4);
    if (!payload.length) continue;
    out.payloadBytes += payload.length;
    const key = `${ip.subarray(12, 16).join(".")}:${tcp.readUInt16BE(0)}>${ip.subarray(16, 20).join(".")}:${tcp.readUInt16BE(2)}`;
    (flows.get(key) ?? flows.set(key, []).get(key)!).push(payload);
  }
  for (const parts of flows.values()) {
    const s = Buffer.concat(parts);
    for (let start = 0; start < Math.min(s.length, 65536); start++) {
      if (!(s[start] >= 0x14 && s[start] <= 0x17 && s[start + 1] === 3 && s[start + 2] === 3)) continue;
      let p = start;
      const found: [number, number][] = [];
      while (p + 5 <= s.length && s[p] >= 0x14 && s[p] <= 0x17 && s[p + 1] === 3 && s[p + 2] === 3) {
        found.push([s[p], s.readUInt16BE(p + 3)]);
        p += 5 + s.readUInt16BE(p + 3);
      }
      if (p >= s.length && found.length) {
        out.records += found.length;
        for (const [type, len] of found) if (type === 0x17) (out.appData++, (out.appDataBytes += len));
        break;
      }
    }
  }
  return out;
}

/** dd `mib` MiB with fsync as root into `dir`; MiB/s from dd's own seconds. */
async function dd(host: Host, dir: string, mib: number): Promise<number> {
  const r = await sh(host, 'dd if=/dev/zero of="$1/dd.bin" bs=1M count="$2" conv=fsync 2>&1 && rm -f "$1/dd.bin"', dir, String(mib));
  const m = /copied, ([\d.]+) s,/.exec(r.out);
  if (r.code !== 0 || !m) throw new Error(`dd into ${dir} failed: ${r.out}`);
  return mib / Number(m[1]);
}

describeVm(
  "VM lane: NFS over TLS (xprtsec tls/mtls, tlshd from Pulumi secrets) in a Debian 13 guest",
  () => {
    const lane = useGuest("nfs-tls.test.ts", "krb5", () => ({ memoryMiB: 2048 }), () => undefined, "trixie");
    let dir: string;
    let engine: Engine;
    let pki: Pki;
    const numbers: string[] = [];
    /** The client certificate the program declares (switched by the mtls scenario). */
    let clientCert: Cert | undefined;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-vm-tls-"));
      engine = new Engine({ stateFile: path.join(dir, "state.json") });
      process.env.KVMSHARE_QUIET ??= "1";
      pki = await makePki(dir);
      clientCert = pki.client;
    });
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`[vm] nfs-tls numbers:\n${numbers.map((n) => `    ${n}`).join("\n")}\n`);
    });

    const program = () => {
      const { connection } = lane.guest;
      const client = new KerberosClient("guest", { connection, realm: REALM, kdcs: [FQDN], domain: "kvmshare.test" });
      const realm = new KerberosRealm("realm", { connection, realm: REALM, masterKey: pulumi.secret(MASTER), adminPassword: pulumi.secret(ADMIN_PW) }, { dependsOn: [client.configResource] });
      const keytab = new KerberosKeytab("nfs-host", { connection, realm, fqdn: FQDN, reloadCommand: ["systemctl", "restart", "gssproxy", "rpc-gssd", "nfs-server"] });
      const tlshd = new Tlshd("tlshd", {
        connection,
        server: { certificate: pki.server.certificate, privateKey: pulumi.secret(pki.server.privateKey), trustedCa: pki.ca },
        client: {
          trustedCa: pki.ca,
          ...(clientCert ? { certificate: clientCert.certificate, privateKey: pulumi.secret(clientCert.privateKey) } : {}),
        },
      });
      const exp = new NfsExport(
        "tls",
        {
          connection,
          path: SHARE,
          clients: [{ host: ADDR, access: "rw", sec: ["sys", "krb5p"], xprtsec: ["none", "tls", "mtls"] }],
          kerberosRealm: client.realm,
        },
        { dependsOn: [keytab.keytabResource, tlshd] },
      );
      new NfsExport("mtls", { connection, path: MTLS_SHARE, clients: [{ host: ADDR, access: "rw", xprtsec: ["mtls"] }] }, { dependsOn: [tlshd] });
      new GuestMount("tls", { connection, where: TLS_MOUNT, nfs: { server: FQDN, exportPath: SHARE, version: "4.2", xprtsec: "tls" } }, { dependsOn: [exp] });
    };

    /** A hand mount of FQDN:`share` with `opts`; the mount's exit code and output (bounded: a failed handshake must not hang the lane). */
    const tryMount = async (share: string, where: string, opts: string) =>
      sh(lane.guest.host, 'mkdir -p "$3" && timeout -k 5 90 mount -t nfs4 -o "$1" "$2" "$3"', `vers=4.2,retry=0,${opts}`, `${FQDN}:${share}`, where);
    /** The mount options the kernel shows for `where` ("" when it is not mounted). */
    const options = async (where: string) => (await sh(lane.guest.host, 'findmnt -n -o OPTIONS "$1"', where)).out.trim();
    /** Run `fn` with the tls GuestMount's unit stopped (no NFS mount left to share a client with), then start it again. */
    const alone = async <T>(fn: () => Promise<T>): Promise<T> => {
      await sh(lane.guest.host, 'systemctl stop "$1"', TLS_UNIT);
      expect((await sh(lane.guest.host, "findmnt -t nfs4 -n")).out).toBe("");
      try {
        return await fn();
      } finally {
        await sh(lane.guest.host, 'systemctl start "$1"', TLS_UNIT);
      }
    };
    /** Unmount a hand mount, so the next one gets its own NFS client. */
    const unmount = async (where: string) => {
      await sh(lane.guest.host, 'umount "$1"', where);
      expect(await options(where)).toBe("");
    };

    scenario(lane, "Tlshd + exports with xprtsec + a GuestMount xprtsec=tls come up (realm for krb5p too); keys are 0600 and no key is in the engine's plain state", async () => {
      const { host } = lane.guest;
      const prep = await sh(host, `set -e
hostname ${FQDN}; echo ${FQDN} > /etc/hostname
printf '127.0.0.1 localhost\\n${ADDR} ${FQDN} nfs\\n' > /etc/hosts
mkdir -p ${SHARE} ${MTLS_SHARE} /etc/exports.d
chown 65534:65534 ${SHARE} ${MTLS_SHARE}`);
      expect(prep).toEqual({ code: 0, out: "" });
      const info = await sh(host, "uname -r; dpkg-query -W -f='${Version}' ktls-utils nfs-kernel-server; echo; grep -c . /proc/net/handshake 2>/dev/null; modprobe tls && echo tls-ok");
      numbers.push(`guest: ${info.out.trim().replace(/\n/g, "; ")}`);
      const t0 = Date.now();
      const r = await engine.up(program);
      numbers.push(`stand-up (KerberosClient + KerberosRealm + keytab + Tlshd + 2 exports + GuestMount tls; TCG over SSH): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(r.errors).toEqual([]);
      expect((await sh(host, "findmnt -n -o OPTIONS " + TLS_MOUNT)).out).toMatch(/xprtsec=tls/);
      expect((await sh(host, "systemctl is-active tlshd")).out.trim()).toBe("active");
      const keys = await sh(host, "stat -c '%a %n' /etc/tlshd/*.key");
      expect(keys.out.trim().split("\n").map((l) => l.split(" ")[0])).toEqual(["600", "600"]);
      const plain = JSON.stringify(Object.values(r.outputs).map((o) => [o.observed, o.spec]));
      for (const k of [pki.server.privateKey, pki.client.privateKey]) expect(plain).not.toContain(k.split("\n")[1]);
      expect((await sh(host, "exportfs -v")).out).toMatch(new RegExp(`${MTLS_SHARE}\\s+${ADDR.replace(/\./g, "\\.")}\\(.*xprtsec=mtls`));
      const again = await engine.up(program);
      expect(again.errors).toEqual([]);
      expect(again.changes).toEqual([]);
    }, 900_000);

    scenario(lane, "(a) tls: a marker written through the mount is not on the wire; TLS application-data records carry at least the write; a plain mount shows it", async () => {
      const { host } = lane.guest;
      const marker = `KVMSHARE-TLS-MARKER-${rnd(6)}`;
      const bytes = 1 << 20;
      const capture = async (where: string, pcap: string) => {
        await sh(host, 'setsid tcpdump -i lo -U -s 0 -w "$1" tcp port 2049 >/dev/null 2>&1 & echo $! > /tmp/tcpdump.pid; sleep 2', pcap);
        const before = Number((await sh(host, 'stat -c %s "$1"', pcap)).out.trim());
        // 1 MiB of the marker repeated, then read back (the read is served by the page cache).
        const w = await sh(host, 'yes "$1" | head -c "$2" > "$3/marker.txt" && sync "$3/marker.txt" && head -c 40 "$3/marker.txt"', marker, String(bytes), where);
        await sh(host, "sleep 1; kill $(cat /tmp/tcpdump.pid); sleep 1");
        expect(w).toEqual({ code: 0, out: `${marker}\n${marker}`.slice(0, 40) });
        const file = await host.run(["base64", "-w0", pcap], { timeoutMs: 120_000 });
        return { before, pcap: Buffer.from(file.stdout.trim(), "base64") };
      };
      const tls = await capture(TLS_MOUNT, "/tmp/tls.pcap");
      const recs = tlsRecords(tls.pcap);
      const seen = tls.pcap.includes(Buffer.from(marker));
      numbers.push(`tls capture: ${tls.pcap.length - tls.before} bytes grew during a ${bytes}-byte write; ${recs.records} TLS records, ${recs.appData} application-data (0x17, 0x0303) carrying ${recs.appDataBytes} bytes of ${recs.payloadBytes} TCP payload bytes; marker in capture: ${seen}`);
      expect(tls.pcap.length - tls.before).toBeGreaterThanOrEqual(bytes);
      expect(recs.appDataBytes).toBeGreaterThanOrEqual(bytes);
      expect(recs.appDataBytes).toBeGreaterThan(recs.payloadBytes * 0.9);
      expect(seen).toBe(false);

      // The control: the same write through a mount without TLS is in plain text on the wire.
      const plain = await alone(async () => {
        expect((await tryMount(SHARE, "/mnt/plain", "sec=sys")).code).toBe(0);
        expect(await options("/mnt/plain")).not.toMatch(/xprtsec=(tls|mtls)/);
        const c = await capture("/mnt/plain", "/tmp/plain.pcap");
        await unmount("/mnt/plain");
        return c;
      });
      expect(plain.pcap.includes(Buffer.from(marker))).toBe(true);
      expect(tlsRecords(plain.pcap).appDataBytes).toBeLessThan(bytes / 10);
    }, 600_000);

    scenario(lane, "(b) mtls export: refused without a client certificate, with another CA's, with an expired one; accepted with the right one", async () => {
      const { host } = lane.guest;
      await alone(async () => {
        const attempt = async (label: string, cert: Cert | undefined, opts: string) => {
          clientCert = cert;
          const r = await engine.up(program);
          expect(r.errors).toEqual([]);
          const t0 = Date.now();
          const m = await tryMount(MTLS_SHARE, "/mnt/mtls", opts);
          const secs = (Date.now() - t0) / 1000;
          const journal = await sh(host, "journalctl -u tlshd --no-pager -o cat -n 3 --since -2min");
          numbers.push(`mtls export, ${label}: mount exit ${m.code} after ${secs.toFixed(1)} s: ${m.out.trim().replace(/\n/g, " ") || "(no output)"}; tlshd: ${journal.out.trim().replace(/\n/g, " | ").slice(0, 300)}`);
          return m;
        };
        const none = await attempt("no client certificate (xprtsec=tls)", pki.client, "xprtsec=tls");
        expect(none.code).not.toBe(0);
        const none2 = await attempt("no client certificate (xprtsec=mtls, Tlshd without one)", undefined, "xprtsec=mtls");
        expect(none2.code).not.toBe(0);
        expect((await attempt("another CA's certificate", pki.otherCaClient, "xprtsec=mtls")).code).not.toBe(0);
        expect((await attempt("an expired certificate", pki.expiredClient, "xprtsec=mtls")).code).not.toBe(0);
        expect(await options("/mnt/mtls")).toBe("");
        const good = await attempt("the right certificate", pki.client, "xprtsec=mtls");
        expect(good).toEqual({ code: 0, out: "" });
        expect(await options("/mnt/mtls")).toMatch(/xprtsec=mtls/);
        expect((await sh(host, "echo mtls-ok > /mnt/mtls/ok.txt && cat /srv/mtls/ok.txt")).out).toBe("mtls-ok\n");
        await unmount("/mnt/mtls");
      });
    }, 900_000);

    scenario(lane, "(c) tlshd.conf edited by hand is drift at refresh; up puts it back", async () => {
      const { host } = lane.guest;
      const original = await host.readFile("/etc/tlshd.conf");
      expect(original).toMatch(/x509\.certificate/);
      await host.writeFileAtomic("/etc/tlshd.conf", original!.replace(/x509\.truststore\s*=.*/, "x509.truststore=/etc/ssl/certs/ca-certificates.crt"));
      const p = await engine.preview(program, { refresh: true });
      expect(p.errors).toEqual([]);
      const drift = p.changes.filter((s) => s.op === "update");
      numbers.push(`tlshd.conf hand edit: drift steps ${drift.map((s) => `${s.type} ${s.name} [${s.diffs.join(",")}]`).join("; ")}`);
      expect(drift.length).toBeGreaterThan(0);
      expect(drift.every((s) => /tlshd/i.test(`${s.type} ${s.name}`))).toBe(true);
      expect(await host.readFile("/etc/tlshd.conf")).not.toBe(original);
      const up = await engine.up(program);
      expect(up.errors).toEqual([]);
      expect(await host.readFile("/etc/tlshd.conf")).toBe(original);
      const clean = await engine.preview(program, { refresh: true });
      expect(clean.changes.filter((s) => s.op !== "refresh")).toEqual([]);
    }, 600_000);

    scenario(lane, `(d) throughput on the same export: sys vs tls vs mtls vs krb5p (dd ${DD_MIB} MiB conv=fsync, printed)`, async () => {
      const { host } = lane.guest;
      const kinit = await sh(host, `kinit -k host/${FQDN} && echo ok`);
      numbers.push(`root machine credentials (kinit -k host/${FQDN}): ${kinit.out.trim()}`);
      // Every row on SHARE, mounted alone (a shared NFS client would carry another row's TLS), its options checked.
      const rows: [string, string, string, RegExp][] = [
        ["sys", "/mnt/plain", "sec=sys", /^(?!.*xprtsec=(tls|mtls)).*sec=sys/],
        ["tls", "/mnt/tls-share", "xprtsec=tls", /sec=sys.*xprtsec=tls/],
        ["mtls", "/mnt/mtls-share", "xprtsec=mtls", /sec=sys.*xprtsec=mtls/],
        ["krb5p", "/mnt/k5p", "sec=krb5p", /^(?!.*xprtsec=(tls|mtls)).*sec=krb5p/],
        ["krb5p+tls", "/mnt/k5p-tls", "sec=krb5p,xprtsec=tls", /sec=krb5p.*xprtsec=tls/],
      ];
      const mibs: Record<string, number> = {};
      await alone(async () => {
        for (const [label, where, opts, want] of rows) {
          const m = await tryMount(SHARE, where, opts);
          if (m.code !== 0) {
            const k = await sh(host, "uname -r");
            numbers.push(`${label}: mount failed on kernel ${k.out.trim()} (exit ${m.code}): ${m.out.trim()}`);
            continue;
          }
          // Never measure the guest's own disk, nor another row's transport: the mount is SHARE with this row's options.
          expect((await sh(host, 'findmnt -n -o FSTYPE,SOURCE "$1"', where)).out.trim().split(/\s+/)).toEqual(["nfs4", `${FQDN}:${SHARE}`]);
          expect(await options(where)).toMatch(want);
          mibs[label] = await dd(host, where, DD_MIB);
          await unmount(where);
        }
      });
      const sys = mibs.sys;
      for (const [label, v] of Object.entries(mibs)) numbers.push(`throughput ${label.padEnd(9)} ${v.toFixed(1).padStart(6)} MiB/s  (${(v / sys).toFixed(2)} x sys; dd ${DD_MIB} MiB conv=fsync, TCG guest, loopback)`);
      expect(Object.keys(mibs).slice(0, 3)).toEqual(["sys", "tls", "mtls"]);
      for (const v of Object.values(mibs)) expect(v).toBeGreaterThan(0);
    }, 1_800_000);

    scenario(lane, "clean up: unmount every NFS mount (a hard mount must not stall power-off)", async () => {
      const { host } = lane.guest;
      await sh(host, "for m in /mnt/plain /mnt/mtls /mnt/tls-share /mnt/mtls-share /mnt/k5p /mnt/k5p-tls; do umount -f -l $m 2>/dev/null; done; systemctl stop mnt-tls.mount 2>/dev/null; umount -f -l /mnt/tls 2>/dev/null; true");
      expect((await sh(host, "findmnt -t nfs4 -n | wc -l")).out.trim()).toBe("0");
    });
  },
  ["openssl"],
  "trixie",
);
