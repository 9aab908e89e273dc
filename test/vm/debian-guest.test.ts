/**
 * VM lane, base image: one real Debian guest (stock kernel, systemd) for the whole file.
 *   - smoke: the guest kernel has what this machine's lacks; kvmshare's Host over SSH pins the
 *     host key and quotes hostile file names; this machine's loopback is 10.0.2.2
 * Components applied in the guest over SSH through the in-process engine:
 *   - NfsExport (kernel nfsd) + GuestMount NFSv4.2 nconnect=4 as a systemd unit, drift, destroy
 *   - SambaServer/SmbUser/SmbShare on this machine (sandboxed smbd on loopback, reached from the
 *     guest as 10.0.2.2) + GuestMount SMB 3.1.1 seal with a 0600 credentials file; a wrong
 *     password fails the unit clearly and no password shows in the journal or process list
 *   - NetworkTuning: sysctl profile (BBR, somaxconn, buffers) + tc tbf on eth0, drift, restore
 *   - ParallelTransfer into the guest over SSH (SFTP), to its disk and into the NFS mount
 *   - virtiofs: a ZFS dataset on this machine (zfs-fuse; ZfsPool + ZfsDataset through the engine)
 *     passed through with virtiofsd, mounted by a GuestMount unit; both directions; the transfer
 *     engine writes into the mount; drift; destroy keeps the data
 */
import * as crypto from "crypto";
import * as net from "net";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Host, SshHost } from "../../core/connection";
import * as pulumi from "@pulumi/pulumi";
import { NfsExport } from "../../components/nfs";
import { SambaServer, SmbShare, SmbUser } from "../../components/smb";
import { GuestMount } from "../../components/guest";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { copy } from "../../transfer";
import { acquireZfsFuse, destroyPoolIfPresent, ZfsFuseLease } from "../fixtures/zfsFuse";
import { freePort } from "../fixtures/process";
import { hupPidFile, sandboxSambaServer, Smbd, startSmbd } from "../fixtures/smbd";
import { NetworkTuning } from "../../components/network";
import { ParallelTransfer } from "../../components/transfer";
import { Engine } from "../harness/engine";
import { describeVm, scenario, useGuest } from "./lane";

process.env.KVMSHARE_QUIET ??= "1";
const SMB_PASSWORD = `Vm-${crypto.randomBytes(12).toString("base64url")}`;
const WRONG_PASSWORD = `Wrong-${crypto.randomBytes(12).toString("base64url")}`;

/** PIDs (with their command) whose mount table still shows the pool. */
function holders(pool: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").includes(pool)) {
        found.push(`${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 80)})`);
      }
    } catch {
      /* gone */
    }
  }
  return found;
}

const TAG = "kvmshare-data";
const WHERE = "/mnt/host-data";
const EXPORT_DIR = "/srv/kvmshare-nfs";
const MOUNT = "/mnt/nfs share";

async function sha256In(host: Host, file: string): Promise<string> {
  return (await host.run(["sha256sum", "--", file], { timeoutMs: 120_000 })).stdout.split(" ")[0];
}

describeVm("VM lane: a real Debian guest: smoke, kernel NFS, SMB3, ParallelTransfer, network tuning, virtiofs", () => {
  let smbd: Smbd | undefined;
  // Created when the guest boots (not when a skipped lane is only collected).
  const dir = path.join(os.tmpdir(), `kvmshare-vm-shares-${process.pid}`);
  let engine!: Engine;
  let hostEngine!: Engine;
  let guestSmbEngine!: Engine;
  let zfsEngine!: Engine;
  let vfsEngine!: Engine;
  let lease: ZfsFuseLease | undefined;
  const pool = `ksvm${process.pid}`;
  const zfsMnt = path.join(dir, "zfs");
  const shared = path.join(zfsMnt, "share");
  const storage = () => () => {
    const p = new ZfsPool("tank", {
      poolName: pool,
      vdevs: [{ type: "mirror", devices: [path.join(dir, "d0"), path.join(dir, "d1")] }],
      fileSizeMiB: 128,
      mountpoint: zfsMnt,
    });
    new ZfsDataset("share", { pool: p, datasetName: `${pool}/share`, properties: { compression: "gzip", atime: "off" } });
  };

  const lane = useGuest(
    "debian-guest.test.ts",
    "base",
    async () => {
      fs.mkdirSync(dir, { recursive: true });
      engine = new Engine({ stateFile: path.join(dir, "state.json") });
      hostEngine = new Engine({ stateFile: path.join(dir, "host-state.json") });
      guestSmbEngine = new Engine({ stateFile: path.join(dir, "guest-smb-state.json") });
      zfsEngine = new Engine({ stateFile: path.join(dir, "zfs-state.json") });
      vfsEngine = new Engine({ stateFile: path.join(dir, "vfs-state.json") });
      // The dataset virtiofsd shares must exist before the guest boots.
      lease = await acquireZfsFuse();
      const r = await zfsEngine.up(storage());
      if (r.errors.length) throw new Error(`ZfsPool/ZfsDataset on zfs-fuse failed:\n${r.errors.join("\n")}`);
      return { shares: [{ source: shared, tag: TAG }] };
    },
    async () => {
      await smbd?.stop();
      try {
        if (lease) {
          lane.log(`destroying the test pool ${pool}`);
          try {
            await destroyPoolIfPresent(pool, dir);
          } catch (e) {
            // A FUSE mount is copied into every mount namespace created while it exists (ip netns
            // exec, unshare -m): a process started there by a concurrent test keeps the pool busy.
            throw new Error(`${(e as Error).message}; processes in other mount namespaces holding it: ${holders(pool).join(", ") || "none found"}`);
          }
        }
      } finally {
        await lease?.release();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  scenario(lane, "smoke: the guest runs the stock Debian kernel with what this machine's kernel lacks", async () => {
    const { host } = lane.guest;
    const uname = (await host.run(["uname", "-r"])).stdout.trim();
    expect(uname).toBe(lane.image.kernelVersion);
    expect(uname).not.toBe(os.release());
    await host.run(["modprobe", "-a", "nfsd", "nfs", "cifs", "virtiofs", "9p", "sch_netem", "sch_fq"]);
    const filesystems = (await host.run(["cat", "/proc/filesystems"])).stdout;
    for (const f of ["nfsd", "nfs4", "cifs", "virtiofs", "9p"]) expect(filesystems).toMatch(new RegExp(`\\b${f}\\b`));
  });

  scenario(lane, "smoke: a guest presenting another host key is refused", async () => {
    const wrong = { ...lane.guest.connection, hostKeySha256: "SHA256:" + "A".repeat(43) };
    await expect(SshHost.connect(wrong)).rejects.toThrow(/127\.0\.0\.1/);
  });

  scenario(lane, "smoke: writeFileAtomic/readFile/removeFile over SSH keep bytes and mode of a hostile file name", async () => {
    const { host } = lane.guest;
    const p = "/root/it's a \"file\" $(touch pwned) `touch pwned2`.txt";
    const content = "line 1\n\ttab 'quote' \"dq\" $HOME \\ back\nünïcødé\n";
    await host.writeFileAtomic(p, content, { mode: "0600" });
    expect(await host.readFile(p)).toBe(content);
    expect((await host.run(["stat", "-c", "%a", "--", p])).stdout.trim()).toBe("600");
    expect((await host.run(["ls", "/root"])).stdout).not.toMatch(/^pwned/m);
    expect(await host.removeFile(p)).toBe(true);
    expect(await host.readFile(p)).toBeUndefined();
    expect(await host.removeFile(p)).toBe(false);
  });

  scenario(lane, "smoke: this machine's loopback is reachable from the guest as 10.0.2.2", async () => {
    const token = `kvmshare-${process.pid}-${Date.now()}`;
    const srv = net.createServer((sock) => sock.end(token + "\n"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const r = await lane.guest.host.run(["bash", "-c", 'exec 3<>"/dev/tcp/10.0.2.2/$1"; head -n1 <&3', "bash", String(port)], { timeoutMs: 20_000 });
      expect(r.stdout.trim()).toBe(token);
    } finally {
      srv.close();
    }
  });

  // The guest exports a directory and mounts it back over its own loopback: the kernel server
  // and the kernel client are both the real ones.
  const nfsProgram = () => () => {
    const { connection } = lane.guest;
    const exp = new NfsExport("lane", {
      connection,
      path: EXPORT_DIR,
      clients: ["127.0.0.1"],
      access: "rw",
    });
    new GuestMount(
      "lane",
      { connection, where: MOUNT, nfs: { server: "127.0.0.1", exportPath: EXPORT_DIR, version: "4.2", nconnect: 4 } },
      { dependsOn: [exp] },
    );
  };

  scenario(lane, "NFS: NfsExport (kernel) + GuestMount NFSv4.2 nconnect=4 unit; a file written through the mount is read back", async () => {
    const { host } = lane.guest;
    await host.run(["mkdir", "-p", EXPORT_DIR, "/etc/exports.d"]);
    // root_squash maps the client's root to nobody (65534): the export belongs to it. (A 1777
    // directory would not do: fs.protected_regular refuses O_TRUNC opens of another user's file.)
    await host.run(["chown", "65534:65534", EXPORT_DIR]);
    const up = await engine.up(nfsProgram());
    expect(up.errors).toEqual([]);
    expect(up.changes.map((s) => s.op)).toEqual(["create", "create"]);

    expect((await host.run(["exportfs", "-v"])).stdout).toMatch(new RegExp(`${EXPORT_DIR}\\s+127\\.0\\.0\\.1\\(.*\\brw\\b.*root_squash`));
    const unit = (await host.run(["systemd-escape", "--path", "--suffix=mount", MOUNT])).stdout.trim();
    expect((await host.run(["systemctl", "is-active", unit])).stdout.trim()).toBe("active");
    expect((await host.run(["systemctl", "is-enabled", unit])).stdout.trim()).toBe("enabled");
    const mnt = (await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "--target", MOUNT])).stdout;
    expect(mnt).toMatch(/^nfs4\s+127\.0\.0\.1:\/srv\/kvmshare-nfs\s/);
    expect(mnt).toMatch(/vers=4\.2/);
    expect(mnt).toMatch(/nconnect=4/);
    expect(mnt).toMatch(/\bhard\b/);

    await host.run(["dd", "if=/dev/urandom", `of=${MOUNT}/through-nfs.bin`, "bs=1M", "count=16", "conv=fsync", "status=none"]);
    expect(await sha256In(host, `${EXPORT_DIR}/through-nfs.bin`)).toBe(await sha256In(host, `${MOUNT}/through-nfs.bin`));
    // root_squash is real: root in the client wrote as nobody.
    expect((await host.run(["stat", "-c", "%u", `${EXPORT_DIR}/through-nfs.bin`])).stdout.trim()).toBe("65534");

    const again = await engine.up(nfsProgram());
    expect(again.errors).toEqual([]);
    expect(again.changes).toEqual([]);
  });

  scenario(lane, "NFS: an export edited by hand is reported as drift after refresh and put back by up", async () => {
    const { host } = lane.guest;
    const file = "/etc/exports.d/lane.exports";
    const original = await host.readFile(file);
    expect(original).toMatch(/127\.0\.0\.1\(/);
    await host.writeFileAtomic(file, original!.replace(/\brw\b/, "ro"));
    await host.run(["exportfs", "-ra"]);
    const p = await engine.preview(nfsProgram(), { refresh: true });
    expect(p.errors).toEqual([]);
    const drift = p.changes.filter((s) => s.op === "update");
    expect(drift.map((s) => s.name)).toEqual(["lane-export"]);
    expect(await host.readFile(file)).not.toBe(original); // preview changed nothing

    const up = await engine.up(nfsProgram());
    expect(up.errors).toEqual([]);
    expect(await host.readFile(file)).toBe(original);
    expect((await host.run(["exportfs", "-v"])).stdout).toMatch(new RegExp(`${EXPORT_DIR}\\s+127\\.0\\.0\\.1\\(.*\\brw\\b`));
    const clean = await engine.preview(nfsProgram(), { refresh: true });
    expect(clean.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  scenario(lane, "ParallelTransfer into the guest over SSH (its disk and its NFS mount): identical bytes, idempotent, drift, kept on destroy", async () => {
    const { host, connection } = lane.guest;
    const src = path.join(dir, "payload");
    fs.mkdirSync(src);
    let big = crypto.randomBytes(10 * 2 ** 20);
    fs.writeFileSync(path.join(src, "big.bin"), big);
    fs.writeFileSync(path.join(src, "small name with spaces.txt"), "hello guest\n");
    const dests = ["/root/incoming/payload", `${MOUNT}/incoming/payload`];
    await host.run(["mkdir", "-p", "/root/incoming", `${MOUNT}/incoming`]);
    const transferEngine = new Engine({ stateFile: path.join(dir, "transfer-state.json") });
    const program = () => () => {
      new ParallelTransfer("to-disk", { source: src, destination: dests[0], connection, streams: 3, chunkSize: "2M" });
      new ParallelTransfer("to-nfs", { source: src, destination: dests[1], connection, streams: 3, chunkSize: "2M" });
    };
    const landedRight = async () => {
      const want = crypto.createHash("sha256").update(big).digest("hex");
      for (const dest of dests) {
        const files = (await host.run(["find", dest, "-type", "f"])).stdout.trim().split("\n").map((f) => path.basename(f)).sort();
        expect(files).toEqual(["big.bin", "small name with spaces.txt"]);
        expect(await sha256In(host, `${dest}/big.bin`)).toBe(want);
        expect(await host.readFile(`${dest}/small name with spaces.txt`)).toBe("hello guest\n");
      }
      // Through the mount means on the export.
      expect(await sha256In(host, `${EXPORT_DIR}/incoming/payload/big.bin`)).toBe(want);
    };

    const up = await transferEngine.up(program());
    expect(up.errors).toEqual([]);
    expect(up.changes.map((s) => s.op)).toEqual(["create", "create"]);
    await landedRight();
    expect((await transferEngine.up(program())).changes).toEqual([]);

    // A changed source is copied again.
    big = Buffer.concat([big, crypto.randomBytes(2 ** 20)]);
    fs.writeFileSync(path.join(src, "big.bin"), big);
    const again = await transferEngine.up(program());
    expect(again.errors).toEqual([]);
    expect(again.changes.map((s) => s.op)).toEqual(["update", "update"]);
    await landedRight();

    // A copy damaged by hand in the guest is drift, and up repairs it.
    await host.run(["truncate", "-s", "1000", `${dests[0]}/big.bin`]);
    const p = await transferEngine.preview(program(), { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["to-disk-copy"]);
    expect((await transferEngine.up(program())).errors).toEqual([]);
    await landedRight();

    // Destroy leaves the copies (allowDestroy is off).
    expect((await transferEngine.destroy()).errors).toEqual([]);
    await landedRight();
  });

  scenario(lane, "NFS: destroy stops and removes the mount unit and the export", async () => {
    const { host } = lane.guest;
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    const unit = (await host.run(["systemd-escape", "--path", "--suffix=mount", MOUNT])).stdout.trim();
    expect((await host.run(["findmnt", "--target", MOUNT, "-n", "-o", "FSTYPE"], { check: false })).stdout).not.toMatch(/nfs/);
    expect(await host.readFile(`/etc/systemd/system/${unit}`)).toBeUndefined();
    expect(await host.readFile("/etc/exports.d/lane.exports")).toBeUndefined();
    expect((await host.run(["exportfs", "-v"])).stdout).not.toContain(EXPORT_DIR);
    // The data stays: destroying a share never destroys what was shared.
    expect((await host.run(["ls", EXPORT_DIR])).stdout).toContain("through-nfs.bin");
  });

  // ---- SMB: the server on this machine (sandboxed: config, passdb, state and logs in the temp
  // dir; user `games`, an existing system account, only in the private passdb), the guest mounts.
  const sb = path.join(dir, "smb");
  const smbData = path.join(sb, "data");
  let smbPort = 0;
  const smbMount = (name: string, where: string, password: string) =>
    new GuestMount(name, {
      connection: lane.guest.connection,
      where,
      smb: { server: "10.0.2.2", share: "data", username: "games", port: smbPort },
      password: pulumi.secret(password),
      timeoutSec: 30,
    });

  scenario(lane, "SMB: SmbShare on this machine + GuestMount SMB 3.1.1 seal with a 0600 credentials file; files cross both ways", async () => {
    const { host } = lane.guest;
    smbPort = await freePort();
    fs.mkdirSync(smbData, { recursive: true });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(sb, 0o755);
    fs.chownSync(smbData, 5, 0); // games
    const conf = path.join(sb, "smb.conf");
    const pidFile = path.join(sb, "smbd.pid.test");
    const hostUp = await hostEngine.up(() => {
      // smbd re-reads its config on SIGHUP, once this test started it
      const server = new SambaServer("smb", sandboxSambaServer(sb, smbPort, hupPidFile(pidFile)));
      const games = new SmbUser("games", { server, password: pulumi.secret(SMB_PASSWORD) });
      // QEMU user networking: the guest's connections reach smbd from 127.0.0.1.
      new SmbShare("data", { server, path: smbData, validUsers: [games], hostsAllow: ["127.0.0.1"] });
    });
    expect(hostUp.errors).toEqual([]);
    smbd = await startSmbd(conf, smbPort, { pidFile });

    const up = await guestSmbEngine.up(() => {
      smbMount("smb", "/mnt/smb", SMB_PASSWORD);
    });
    expect(up.errors).toEqual([]);
    expect((await host.run(["systemctl", "is-active", "mnt-smb.mount"], { check: false })).stdout.trim()).toBe("active");
    const mnt = (await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "/mnt/smb"])).stdout;
    expect(mnt).toMatch(/^cifs\s+\/\/10\.0\.2\.2\/data\s/);
    expect(mnt).toMatch(/vers=3\.1\.1/);
    expect(mnt).toMatch(/\bseal\b/);
    const cred = (await host.run(["sh", "-c", 'for f in /etc/kvmshare/*.cred; do stat -c "%a %U %G %n" "$f"; done'])).stdout.trim();
    expect(cred).toMatch(/^600 root root \/etc\/kvmshare\/mnt-smb\.cred$/);

    await host.run(["sh", "-c", 'head -c 2097152 /dev/urandom > /mnt/smb/from-guest.bin && sync']);
    const guestSum = (await host.run(["sha256sum", "/mnt/smb/from-guest.bin"])).stdout.split(" ")[0];
    expect(crypto.createHash("sha256").update(fs.readFileSync(path.join(smbData, "from-guest.bin"))).digest("hex")).toBe(guestSum);
    fs.writeFileSync(path.join(smbData, "from-host.txt"), "over SMB3 with encryption\n");
    expect((await host.run(["cat", "/mnt/smb/from-host.txt"])).stdout).toBe("over SMB3 with encryption\n");
  });

  let wrongPasswordError = "";

  scenario(lane, "SMB: a wrong password fails the unit; no password in the journal, process list, errors or state", async () => {
    const { host } = lane.guest;
    const r = await guestSmbEngine.up(() => {
      smbMount("smb", "/mnt/smb", SMB_PASSWORD);
      smbMount("bad", "/mnt/smb-bad", WRONG_PASSWORD);
    });
    wrongPasswordError = r.errors.join("\n");
    lane.log(`wrong-password error as users see it: ${wrongPasswordError}`);
    expect(wrongPasswordError).toMatch(/^bad-mount: .*mnt-smb\\x2dbad\.mount/);
    expect((await host.run(["findmnt", "-n", "/mnt/smb-bad"], { check: false })).code).not.toBe(0);
    // The kernel's reason is in the journal...
    const journal = (await host.run(["journalctl", "-b", "--no-pager", "-o", "cat"], { timeoutMs: 60_000 })).stdout;
    expect(journal).toMatch(/STATUS_LOGON_FAILURE|Permission denied|error\(13\)|= -13/);
    // ...and neither password is, anywhere someone without the credentials file could look.
    const ps = (await host.run(["ps", "-eo", "args"])).stdout;
    for (const secret of [SMB_PASSWORD, WRONG_PASSWORD]) {
      expect(journal).not.toContain(secret);
      expect(ps).not.toContain(secret);
      expect(wrongPasswordError).not.toContain(secret);
      expect((await host.run(["grep", "-rlF", "--", secret, "/etc/systemd", "/run/systemd", "/var/log"], { check: false })).stdout).toBe("");
      for (const f of ["state.json", "host-state.json", "guest-smb-state.json"]) {
        const p = path.join(dir, f);
        if (fs.existsSync(p)) expect(fs.readFileSync(p, "utf8")).not.toContain(secret);
      }
    }
    // The good mount's credentials file is root-only (the failed one's was removed again).
    const creds = (await host.run(["sh", "-c", 'stat -c "%a %U %n" /etc/kvmshare/*.cred'])).stdout.trim().split("\n");
    expect(creds).toEqual(["600 root /etc/kvmshare/mnt-smb.cred"]);
    // The good mount was not disturbed.
    expect((await host.run(["systemctl", "is-active", "mnt-smb.mount"], { check: false })).stdout.trim()).toBe("active");

    const d = await guestSmbEngine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", "/mnt/smb"], { check: false })).code).not.toBe(0);
    expect(await host.readFile("/etc/kvmshare/mnt-smb.cred")).toBeUndefined();
    expect(fs.existsSync(path.join(smbData, "from-guest.bin"))).toBe(true);
    expect((await hostEngine.destroy()).errors).toEqual([]);
  });

  scenario(lane, "GuestMount: a failed start names its cause and leaves no unit or credentials file behind", async () => {
    const { host } = lane.guest;
    // systemctl says only "Job failed. See journalctl -xe"; the error carries the mount helper's reason.
    expect(wrongPasswordError).toMatch(/^bad-mount: GuestMount: mnt-smb\\x2dbad\.mount failed to start on root@127\.0\.0\.1:\d+:/);
    expect(wrongPasswordError).toMatch(/mount error\(13\): Permission denied/);
    // The resource never reached the state, so its create removed what it wrote.
    expect(await host.readFile("/etc/kvmshare/mnt-smb_x2dbad.cred")).toBeUndefined();
    expect(await host.readFile("/etc/systemd/system/mnt-smb\\x2dbad.mount")).toBeUndefined();
  });

  const tuning = (somaxconn: number) => () => {
    new NetworkTuning("lane", {
      connection: lane.guest.connection,
      device: "eth0",
      sysctl: {
        tcpCongestionControl: "bbr",
        somaxconn,
        tcpRmem: [4096, 131072, 33554432],
        tcpWmem: [4096, 65536, 33554432],
        rmemMax: 33554432,
        wmemMax: 33554432,
        tcpWindowScaling: true,
      },
      shaping: { kind: "tbf", rateMbit: 2000 },
    });
  };

  scenario(lane, "NetworkTuning: BBR, somaxconn, buffers and a tbf qdisc applied in the guest kernel and read back", async () => {
    const { host } = lane.guest;
    const sysctl = async (k: string) => (await host.run(["sysctl", "-n", k])).stdout.trim().replace(/\s+/g, " ");
    const before = { cc: await sysctl("net.ipv4.tcp_congestion_control"), somaxconn: await sysctl("net.core.somaxconn") };
    expect(before.cc).not.toBe("bbr"); // Debian's default is cubic: the apply is what changes it

    const net = new Engine({ stateFile: path.join(dir, "net-state.json") });
    const up = await net.up(tuning(8192));
    expect(up.errors).toEqual([]);
    expect(await sysctl("net.ipv4.tcp_congestion_control")).toBe("bbr");
    expect(await sysctl("net.core.somaxconn")).toBe("8192");
    expect(await sysctl("net.ipv4.tcp_rmem")).toBe("4096 131072 33554432");
    expect(await sysctl("net.ipv4.tcp_wmem")).toBe("4096 65536 33554432");
    expect(await sysctl("net.core.rmem_max")).toBe("33554432");
    expect(await sysctl("net.ipv4.tcp_window_scaling")).toBe("1");
    const qdisc = JSON.parse((await host.run(["tc", "-j", "qdisc", "show", "dev", "eth0", "root"])).stdout) as { kind: string }[];
    expect(qdisc[0].kind).toBe("tbf");
    const persisted = (await host.run(["sh", "-c", "cat /etc/sysctl.d/*kvmshare*"])).stdout;
    expect(persisted).toMatch(/net\.ipv4\.tcp_congestion_control\s*=\s*bbr/);
    expect((await net.up(tuning(8192))).changes).toEqual([]);

    // A hand change is drift, and up puts it back.
    await host.run(["sysctl", "-w", "net.core.somaxconn=128"]);
    const p = await net.preview(tuning(8192), { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["lane-sysctl"]);
    await net.up(tuning(8192));
    expect(await sysctl("net.core.somaxconn")).toBe("8192");

    // Destroy restores what was there before the first apply.
    const d = await net.destroy();
    expect(d.errors).toEqual([]);
    expect(await sysctl("net.ipv4.tcp_congestion_control")).toBe(before.cc);
    expect(await sysctl("net.core.somaxconn")).toBe(before.somaxconn);
    const after = JSON.parse((await host.run(["tc", "-j", "qdisc", "show", "dev", "eth0", "root"])).stdout) as { kind: string }[];
    expect(after[0]?.kind).not.toBe("tbf");
  });

  const mount = (extra: Record<string, unknown> = {}) => () => {
    new GuestMount("data", { connection: lane.guest.connection, where: WHERE, virtiofs: { tag: TAG }, ...extra });
  };

  scenario(lane, "virtiofs: a GuestMount unit mounts the dataset; written on one side, read on the other", async () => {
    const { host } = lane.guest;
    expect((fs.readFileSync("/proc/self/mountinfo", "utf8").match(new RegExp(` ${shared} .* - fuse`)) ?? []).length).toBe(1);
    const up = await vfsEngine.up(mount());
    expect(up.errors).toEqual([]);
    expect(up.changes.map((s) => s.op)).toEqual(["create"]);
    expect((await host.run(["systemctl", "is-active", "mnt-host\\x2ddata.mount"])).stdout.trim()).toBe("active");
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", WHERE])).stdout.trim()).toMatch(new RegExp(`^virtiofs\\s+${TAG}$`));

    // host -> guest
    const fromHost = crypto.randomBytes(3 * 2 ** 20);
    fs.writeFileSync(path.join(shared, "from-host.bin"), fromHost);
    const inGuest = (await host.run(["sha256sum", `${WHERE}/from-host.bin`])).stdout.split(" ")[0];
    expect(inGuest).toBe(crypto.createHash("sha256").update(fromHost).digest("hex"));

    // guest -> host (the bytes land in the ZFS dataset)
    await host.run(["dd", "if=/dev/urandom", `of=${WHERE}/from-guest.bin`, "bs=1M", "count=4", "conv=fsync", "status=none"]);
    const guestSum = (await host.run(["sha256sum", `${WHERE}/from-guest.bin`])).stdout.split(" ")[0];
    const onHost = fs.readFileSync(path.join(shared, "from-guest.bin"));
    expect(onHost.length).toBe(4 * 2 ** 20);
    expect(crypto.createHash("sha256").update(onHost).digest("hex")).toBe(guestSum);

    expect((await vfsEngine.up(mount())).changes).toEqual([]);
  });

  scenario(lane, "transfer: the copy engine writes into the guest's virtiofs mount over SSH; the dataset holds identical bytes", async () => {
    const src = path.join(dir, "payload.bin");
    const data = crypto.randomBytes(12 * 2 ** 20);
    fs.writeFileSync(src, data);
    await lane.guest.host.run(["mkdir", "-p", `${WHERE}/incoming`]);
    const r = await copy(src, { kind: "ssh", connection: lane.guest.connection, path: `${WHERE}/incoming/payload.bin` }, { streams: 2, chunkSize: 4 * 2 ** 20 });
    expect(r.bytes).toBe(data.length);
    const landed = fs.readFileSync(path.join(shared, "incoming", "payload.bin"));
    expect(landed.equals(data)).toBe(true);
    expect(fs.readdirSync(path.join(shared, "incoming")).filter((f) => f.includes(".part"))).toEqual([]);
  });

  scenario(lane, "virtiofs: a mount unit edited by hand is drift; destroy unmounts and leaves the data", async () => {
    const { host } = lane.guest;
    const unitPath = "/etc/systemd/system/mnt-host\\x2ddata.mount";
    const unit = await host.readFile(unitPath);
    expect(unit).toMatch(/^What=kvmshare-data$/m);
    await host.writeFileAtomic(unitPath, unit!.replace(/^\[Mount\]$/m, "[Mount]\nDirectoryMode=0700"));
    const p = await vfsEngine.preview(mount(), { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["data-mount"]);
    const up = await vfsEngine.up(mount());
    expect(up.errors).toEqual([]);
    expect(await host.readFile(unitPath)).toBe(unit);

    const d = await vfsEngine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", WHERE], { check: false })).code).not.toBe(0);
    expect(await host.readFile(unitPath)).toBeUndefined();
    expect(fs.existsSync(path.join(shared, "from-guest.bin"))).toBe(true);
  });
});
