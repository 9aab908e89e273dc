/**
 * VM lane: Kerberized kernel NFS with a second factor, all on one stock Debian 12 guest (the
 * `krb5` image): kvmshare's components stand up the realm (MIT KDC with OTP pre-authentication),
 * FreeRADIUS checking password + TOTP, the host keytab (host/ and nfs/ of nfs.kvmshare.test), the
 * NFS export with sec=sys:krb5:krb5i:krb5p and a GuestMount with sec=krb5i; the guest is both
 * server and client (the server name resolves to the guest's own address, so principals match).
 *
 * The user `alice` (uid 2001) gets a ticket only with `kinit -T <armor>` and `<password><TOTP>`;
 * without a ticket, or after a wrong token, the Kerberos mounts refuse her. A tcpdump of the NFS
 * traffic shows whether a marker written through the mount travels in plain text. Throughput of
 * sec=sys / krb5 / krb5i / krb5p on the same export is measured with dd (64 MiB, conv=fsync).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../core/connection";
import { GuestMount } from "../../components/guest";
import { KerberosClient, KerberosKeytab, KerberosOtpUser, KerberosRealm, OtpRadius } from "../../components/kerberos";
import { NfsExport } from "../../components/nfs";
import { Engine } from "../harness/engine";
import { describeVm, scenario, useGuest } from "./lane";

const FQDN = "nfs.kvmshare.test";
const REALM = "KVMSHARE.TEST";
const EXPORT = "/srv/share";
const rnd = (n = 12) => crypto.randomBytes(n).toString("base64url");
const MASTER = `mk-${rnd()}`;
const ADMIN_PW = `ad-${rnd()}`;
const RADIUS_SECRET = `rs-${rnd()}`;
const ALICE_PW = `Al1ce-${rnd(8)}`;
// Base32 of 20 random bytes (what `head -c 20 /dev/urandom | base32` gives).
const TOTP = (() => {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return Array.from(crypto.randomBytes(32), (b) => a[b & 31]).join("");
})();

async function sh(host: Host, script: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await host.run(["sh", "-c", script, "sh", ...args], { check: false, timeoutMs: 600_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

/** The guest's TOTP step of the last token `totpNow` returned, and of the last token that got a ticket. */
let tokenStep = -1;
let spentStep = -1;

/** `kinit` for alice as root, with FAST armor from the host keytab, into alice's own ccache. */
async function kinitAlice(host: Host, otpValue: string): Promise<{ code: number; out: string }> {
  await sh(host, "kinit -k -c /root/armor.cc host/$1", FQDN);
  const r = await host.run(["kinit", "-T", "/root/armor.cc", "-c", "FILE:/tmp/krb5cc_2001", "alice"], { stdin: `${otpValue}\n`, check: false, secrets: [otpValue] });
  await sh(host, "[ -e /tmp/krb5cc_2001 ] && chown alice /tmp/krb5cc_2001; true");
  if (r.code === 0) spentStep = tokenStep;
  return { code: r.code, out: r.stdout + r.stderr };
}

/**
 * The current token, computed on the guest. FreeRADIUS 3.2.1's rlm_totp accepts only the current
 * 30 s step (no look-back), and a TCG kinit takes seconds: near the end of a step, wait for the next.
 * OtpRadius accepts a code once: a step whose code already got a ticket is waited out too.
 */
const totpNow = async (host: Host) => {
  const script = 'while :; do t=$(date +%s); if [ $((t % 30)) -lt 20 ] && [ $((t / 30)) != "$2" ]; then break; fi; sleep $((31 - t % 30)); done; echo $((t / 30)); oathtool --totp -b "$1"';
  const [step, token] = (await host.run(["sh", "-c", script, "sh", TOTP, String(spentStep)], { secrets: [TOTP] })).stdout.trim().split("\n");
  tokenStep = Number(step);
  return token;
};

/** dd 64 MiB with fsync as alice into `dir`; MB/s as dd reports it. */
async function ddAsAlice(host: Host, dir: string): Promise<number> {
  const r = await sh(host, 'su alice -s /bin/sh -c "dd if=/dev/zero of=$1/dd.bin bs=1M count=64 conv=fsync 2>&1 && rm -f $1/dd.bin"', dir);
  const m = /copied, ([\d.]+) s, ([\d.]+) ([kMG]?B)\/s/.exec(r.out);
  if (r.code !== 0 || !m) throw new Error(`dd into ${dir} failed: ${r.out}`);
  const mult = { kB: 0.001, MB: 1, GB: 1000, B: 1e-6 }[m[3]] ?? 1;
  return Number(m[2]) * mult;
}

describeVm("VM lane: NFS with Kerberos (krb5, krb5i, krb5p) and password + TOTP through the KDC's OTP", () => {
  const lane = useGuest("nfs-kerberos.test.ts", "krb5", () => ({ memoryMiB: 2048 }));
  let dir: string;
  let engine: Engine;
  const numbers: string[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-vm-krb5-"));
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
    process.env.KVMSHARE_QUIET ??= "1";
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`[vm] nfs-kerberos numbers:\n${numbers.map((n) => `    ${n}`).join("\n")}\n`);
  });

  const realmStack = () => {
    const { connection } = lane.guest;
    const client = new KerberosClient("guest", { connection, realm: REALM, kdcs: [FQDN], domain: "kvmshare.test" });
    const radius = new OtpRadius("otp", { connection, users: [{ name: "alice", password: pulumi.secret(ALICE_PW), totpSecret: pulumi.secret(TOTP) }], radiusSecret: pulumi.secret(RADIUS_SECRET) });
    const realm = new KerberosRealm("realm", {
      connection,
      realm: REALM,
      masterKey: pulumi.secret(MASTER),
      adminPassword: pulumi.secret(ADMIN_PW),
      otp: { radiusServer: "127.0.0.1:1812", radiusSecret: pulumi.secret(RADIUS_SECRET) },
    }, { dependsOn: [client.configResource, radius.radiusResource] });
    return { client, realm };
  };

  const fullStack = () => {
    const { connection } = lane.guest;
    const { client, realm } = realmStack();
    const keytab = new KerberosKeytab("nfs-host", { connection, realm, fqdn: FQDN, reloadCommand: ["systemctl", "restart", "gssproxy", "rpc-gssd", "nfs-server"] });
    new KerberosOtpUser("alice", { realm });
    const exp = new NfsExport("share", {
      connection,
      path: EXPORT,
      clients: [{ host: FQDN, access: "rw", sec: ["sys", "krb5", "krb5i", "krb5p"] }],
      kerberosRealm: client.realm,
    }, { dependsOn: [keytab.keytabResource] });
    new GuestMount("k5i", { connection, where: "/mnt/k5i", nfs: { server: FQDN, exportPath: EXPORT, sec: "krb5i", kerberosRealm: client.realm } }, { dependsOn: [exp] });
  };

  scenario(lane, "realm stood up by KerberosRealm + OtpRadius + KerberosClient on the guest (timed)", async () => {
    const { host } = lane.guest;
    const prep = await sh(host, `set -e
hostname ${FQDN}; echo ${FQDN} > /etc/hostname
printf '127.0.0.1 localhost\\n10.0.2.15 ${FQDN} nfs\\n' > /etc/hosts
id alice >/dev/null 2>&1 || useradd -u 2001 -m -s /bin/sh alice
mkdir -p ${EXPORT} /etc/exports.d /mnt/sys /mnt/k5 /mnt/k5p
chown alice ${EXPORT}`);
    expect(prep).toEqual({ code: 0, out: "" });
    const t0 = Date.now();
    const r = await engine.up(realmStack);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.errors).toEqual([]);
    numbers.push(`realm stand-up (KerberosClient + OtpRadius + KerberosRealm: packages present, database, admin, kdc+kadmind+radius started; TCG guest over SSH): ${seconds.toFixed(1)} s`);
    const kdc = await sh(host, "systemctl is-active krb5-kdc krb5-admin-server kvmshare-otp-radius.service");
    expect(kdc.out.trim().split("\n")).toEqual(["active", "active", "active"]);
    // No secret in what the engine keeps in plain text, nor in kdc.conf.
    const plain = JSON.stringify(Object.values(r.outputs).map((o) => [o.observed, o.spec]));
    for (const s of [MASTER, ADMIN_PW, RADIUS_SECRET, ALICE_PW, TOTP]) expect(plain).not.toContain(s);
    expect((await sh(host, "grep -c -- \"$1\" /etc/krb5kdc/kdc.conf", RADIUS_SECRET)).out.trim()).toBe("0");
  }, 600_000);

  scenario(lane, "keytab, OTP user, export sec=sys:krb5:krb5i:krb5p and a GuestMount sec=krb5i come up; the keytab is 0600", async () => {
    const { host } = lane.guest;
    const r = await engine.up(fullStack);
    expect(r.errors).toEqual([]);
    expect((await sh(host, "stat -c %a /etc/krb5.keytab")).out.trim()).toBe("600");
    expect((await sh(host, "klist -k /etc/krb5.keytab | awk 'NR>3{print $2}' | sort -u")).out.trim().split("\n")).toEqual([`host/${FQDN}@${REALM}`, `nfs/${FQDN}@${REALM}`]);
    expect((await sh(host, "findmnt -n -o OPTIONS /mnt/k5i")).out).toMatch(/sec=krb5i/);
    const again = await engine.up(fullStack);
    expect(again.errors).toEqual([]);
    expect(again.changes).toEqual([]);
  }, 600_000);

  scenario(lane, "krb5i: refused without a ticket and after a wrong token; works after kinit with password + token; a marker is visible on the wire (integrity only)", async () => {
    const { host } = lane.guest;
    await sh(host, "rm -f /tmp/krb5cc_2001");
    const noTicket = await sh(host, 'su alice -s /bin/sh -c "ls /mnt/k5i"');
    expect(noTicket.code).not.toBe(0);
    // Linux 6.1 answers a user without credentials on a krb5 mount with EACCES or, as measured here, ESTALE.
    expect(noTicket.out).toMatch(/Permission denied|Key has expired|Required key not available|Stale file handle/);
    numbers.push(`krb5i without a ticket: ${noTicket.out.trim()}`);
    const good = await totpNow(host);
    const wrong = String((Number(good) + 500000) % 1000000).padStart(6, "0");
    const bad = await kinitAlice(host, `${ALICE_PW}${wrong}`);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/Preauthentication failed/);
    expect((await sh(host, 'su alice -s /bin/sh -c "ls /mnt/k5i"')).code).not.toBe(0);
    const pwOnly = await kinitAlice(host, ALICE_PW);
    expect(pwOnly.code).toBe(1);
    const ok = await kinitAlice(host, `${ALICE_PW}${await totpNow(host)}`);
    expect(ok).toEqual({ code: 0, out: expect.stringContaining("Enter OTP Token Value") });
    const marker = `KVMSHARE-PLAIN-MARKER-${rnd(6)}`;
    await sh(host, "setsid tcpdump -i lo -U -s 0 -w /tmp/k5i.pcap tcp port 2049 >/dev/null 2>&1 & echo $! > /tmp/tcpdump.pid; sleep 2");
    const w = await sh(host, 'su alice -s /bin/sh -c "printf %s $1 > /mnt/k5i/marker.txt && sync && cat /mnt/k5i/marker.txt"', marker);
    await sh(host, "sleep 1; kill $(cat /tmp/tcpdump.pid); sleep 1");
    expect(w).toEqual({ code: 0, out: marker });
    expect((await sh(host, "stat -c %U /srv/share/marker.txt")).out.trim()).toBe("alice");
    const seen = await sh(host, "grep -a -c -- \"$1\" /tmp/k5i.pcap", marker);
    numbers.push(`krb5i: marker written through the mount appears in ${seen.out.trim()} captured packet line(s) (integrity protects, it does not hide)`);
    expect(Number(seen.out.trim())).toBeGreaterThan(0);
  }, 600_000);

  scenario(lane, "krb5: a mount by name works for alice with her ticket", async () => {
    const { host } = lane.guest;
    expect((await kinitAlice(host, `${ALICE_PW}${await totpNow(host)}`)).code).toBe(0);
    const m = await sh(host, `mount -t nfs4 -o sec=krb5 ${FQDN}:${EXPORT} /mnt/k5 && su alice -s /bin/sh -c "echo krb5-ok > /mnt/k5/k5.txt && cat /mnt/k5/k5.txt"`);
    expect(m).toEqual({ code: 0, out: "krb5-ok\n" });
    expect((await sh(host, "findmnt -n -o OPTIONS /mnt/k5")).out).toMatch(/sec=krb5(,|$)/);
  });

  // On the krb5 image's kernel (6.1.176, test/vm/image.ts KRB5_KERNEL); Debian 12's current 6.1.192
  // fails this mount with EIO at getroot (docs/kerberos.md).
  scenario(lane, "krb5p: a mount works for alice with a ticket, refused without one, no plain-text marker on the wire", async () => {
    const { host } = lane.guest;
    const m = await sh(host, `mount -t nfs4 -o sec=krb5p ${FQDN}:${EXPORT} /mnt/k5p`);
    if (m.code !== 0) {
      const stats = await sh(host, "grep ^rpc /proc/net/rpc/nfsd; uname -r");
      numbers.push(`krb5p: mount failed (exit ${m.code}): ${m.out.trim()} — nfsd 'rpc calls badcalls badfmt badauth badclnt': ${stats.out.trim().replace(/\n/g, "; kernel ")}`);
    }
    expect(m.code).toBe(0);
    await sh(host, "rm -f /tmp/krb5cc_2001");
    expect((await sh(host, 'su alice -s /bin/sh -c "ls /mnt/k5p"')).code).not.toBe(0);
    expect((await kinitAlice(host, `${ALICE_PW}${await totpNow(host)}`)).code).toBe(0);
    const marker = `KVMSHARE-SECRET-MARKER-${rnd(6)}`;
    await sh(host, "setsid tcpdump -i lo -U -s 0 -w /tmp/k5p.pcap tcp port 2049 >/dev/null 2>&1 & echo $! > /tmp/tcpdump.pid; sleep 2");
    const w = await sh(host, 'su alice -s /bin/sh -c "printf %s $1 > /mnt/k5p/secret.txt && sync && cat /mnt/k5p/secret.txt"', marker);
    await sh(host, "sleep 1; kill $(cat /tmp/tcpdump.pid); sleep 1");
    expect(w).toEqual({ code: 0, out: marker });
    // The capture holds the write (so the check below can fail), and not the marker in plain text.
    expect(Number((await sh(host, "stat -c %s /tmp/k5p.pcap")).out.trim())).toBeGreaterThan(Buffer.byteLength(marker) * 4);
    expect((await sh(host, "grep -a -c -- \"$1\" /tmp/k5p.pcap", marker)).out.trim()).toBe("0");
  }, 300_000);

  scenario(lane, "throughput on the same export: sec=sys vs krb5 vs krb5i vs krb5p, dd 64 MiB conv=fsync as alice", async () => {
    const { host } = lane.guest;
    expect((await kinitAlice(host, `${ALICE_PW}${await totpNow(host)}`)).code).toBe(0);
    expect((await sh(host, `mount -t nfs4 -o sec=sys ${FQDN}:${EXPORT} /mnt/sys`)).code).toBe(0);
    const mounts: [string, string][] = [["sys", "/mnt/sys"], ["krb5", "/mnt/k5"], ["krb5i", "/mnt/k5i"], ["krb5p", "/mnt/k5p"]];
    const results: Record<string, number[]> = {};
    for (let round = 0; round < 2; round++) {
      for (const [sec, where] of mounts) (results[sec] ??= []).push(await ddAsAlice(host, where));
    }
    for (const [sec, v] of Object.entries(results)) numbers.push(`throughput sec=${sec}: ${v.map((x) => x.toFixed(1)).join(" / ")} MB/s (dd 64 MiB conv=fsync, 2 rounds, TCG guest, loopback)`);
    expect(Object.keys(results)).toEqual(["sys", "krb5", "krb5i", "krb5p"]);
    for (const v of Object.values(results)) for (const x of v) expect(x).toBeGreaterThan(0);
  }, 900_000);

  scenario(lane, "preview refuses sec=krb5p without Kerberos configuration, naming field, value and fix", async () => {
    const r = await engine.preview(() => {
      new NfsExport("nokrb", { connection: lane.guest.connection, path: EXPORT, clients: [{ host: FQDN, sec: ["krb5p"] }] });
    });
    expect(r.errors.join("\n")).toMatch(/clients\[0\]\.sec.*krb5p.*no Kerberos configuration.*kerberosRealm/s);
  });

  scenario(lane, "clean up: unmount every NFS mount (a hard mount must not stall power-off)", async () => {
    const { host } = lane.guest;
    await sh(host, "umount -f -l /mnt/sys /mnt/k5 /mnt/k5p 2>/dev/null; systemctl stop mnt-k5i.mount 2>/dev/null; umount -f -l /mnt/k5i 2>/dev/null; true");
    expect((await sh(host, "findmnt -t nfs4 -n | wc -l")).out.trim()).toBe("0");
  });
});
