/**
 * VM lane, smoke: the guest is a real Debian kernel reachable the way components reach hosts
 * (kvmshare `Host` over SSH with a pinned host key), its kernel NFS server works, and the
 * in-process engine applies a managed file in it over SSH with drift detection.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { SshHost } from "../../core/connection";
import { ManagedFile } from "../../components/files";
import { Engine } from "../harness/engine";
import { describeVm, scenario, useGuest } from "./lane";

describeVm("VM lane: guest kernel smoke", () => {
  const lane = useGuest("guest-kernel.test.ts", "base");

  scenario(lane, "the guest runs the stock Debian kernel this machine lacks", async () => {
    const { host } = lane.guest;
    const uname = (await host.run(["uname", "-r"])).stdout.trim();
    expect(uname).toBe(lane.image.kernelVersion);
    expect(uname).not.toBe(os.release());
    // The modules this machine's kernel lacks load in the guest.
    await host.run(["modprobe", "-a", "nfsd", "nfs", "cifs", "virtiofs", "9p", "sch_netem", "sch_fq"]);
    const fs_ = (await host.run(["cat", "/proc/filesystems"])).stdout;
    for (const f of ["nfsd", "nfs4", "cifs", "virtiofs", "9p"]) expect(fs_).toMatch(new RegExp(`\\b${f}\\b`));
  });

  scenario(lane, "a guest presenting another host key is refused", async () => {
    const wrong = { ...lane.guest.connection, hostKeySha256: "SHA256:" + "A".repeat(43) };
    await expect(SshHost.connect(wrong)).rejects.toThrow(/127\.0\.0\.1/);
  });

  scenario(lane, "writeFileAtomic/readFile/removeFile round trip over SSH keeps bytes and mode", async () => {
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

  scenario(lane, "this machine's loopback is reachable from the guest as 10.0.2.2", async () => {
    const token = `kvmshare-${process.pid}-${Date.now()}`;
    const srv = net.createServer((s) => s.end(token + "\n"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const r = await lane.guest.host.run(["bash", "-c", 'exec 3<>"/dev/tcp/10.0.2.2/$1"; head -n1 <&3', "bash", String(port)], {
        timeoutMs: 20_000,
      });
      expect(r.stdout.trim()).toBe(token);
    } finally {
      srv.close();
    }
  });

  scenario(lane, "the kernel NFS server exports a directory that mounts over NFSv4.2 with nconnect=4", async () => {
    const { host } = lane.guest;
    await host.run(["mkdir", "-p", "/srv/smoke", "/mnt/smoke", "/etc/exports.d"]);
    await host.writeFileAtomic("/etc/exports.d/smoke.exports", "/srv/smoke 127.0.0.1(rw,sync,no_subtree_check,no_root_squash)\n");
    await host.run(["systemctl", "restart", "nfs-server"]);
    await host.run(["exportfs", "-ra"]);
    expect((await host.run(["exportfs", "-v"])).stdout).toMatch(/\/srv\/smoke\s+127\.0\.0\.1/);
    await host.run(["mount", "-t", "nfs4", "-o", "vers=4.2,nconnect=4", "127.0.0.1:/srv/smoke", "/mnt/smoke"], { timeoutMs: 60_000 });
    try {
      const opts = (await host.run(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "/mnt/smoke"])).stdout;
      expect(opts).toMatch(/^nfs4\s/);
      expect(opts).toMatch(/vers=4\.2/);
      expect(opts).toMatch(/nconnect=4/);
      await host.run(["dd", "if=/dev/urandom", "of=/mnt/smoke/blob", "bs=1M", "count=8", "conv=fsync", "status=none"]);
      const sums = (await host.run(["sha256sum", "/mnt/smoke/blob", "/srv/smoke/blob"])).stdout.trim().split("\n").map((l) => l.split(" ")[0]);
      expect(sums).toHaveLength(2);
      expect(sums[0]).toBe(sums[1]);
    } finally {
      await host.run(["umount", "/mnt/smoke"], { check: false });
      await host.removeFile("/etc/exports.d/smoke.exports");
      await host.run(["exportfs", "-ra"], { check: false });
    }
  });

  scenario(lane, "the engine applies a managed file over SSH, and preview --refresh reports a hand edit", async () => {
    const { host, connection } = lane.guest;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-vm-state-"));
    const engine = new Engine({ stateFile: path.join(dir, "state.json") });
    const program = (content: string) => () => {
      new ManagedFile("motd", { connection, file: { path: "/etc/motd.d/kvmshare", content, mode: "0640" } });
    };
    try {
      await host.run(["mkdir", "-p", "/etc/motd.d"]);
      const up = await engine.up(program("hello from kvmshare\n"));
      expect(up.errors).toEqual([]);
      expect(up.changes.map((s) => s.op)).toEqual(["create"]);
      expect(await host.readFile("/etc/motd.d/kvmshare")).toBe("hello from kvmshare\n");
      expect((await host.run(["stat", "-c", "%a", "/etc/motd.d/kvmshare"])).stdout.trim()).toBe("640");
      // The private key of the connection never lands in the state file in plain text.
      expect(fs.readFileSync(path.join(dir, "state.json"), "utf8")).not.toContain(connection.privateKey!.split("\n")[1]);

      expect((await engine.up(program("hello from kvmshare\n"))).changes).toEqual([]);
      await host.writeFileAtomic("/etc/motd.d/kvmshare", "edited by hand\n", { mode: "0640" });
      const p = await engine.preview(program("hello from kvmshare\n"), { refresh: true });
      expect(p.errors).toEqual([]);
      expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.content");
      await engine.up(program("hello from kvmshare\n"));
      expect(await host.readFile("/etc/motd.d/kvmshare")).toBe("hello from kvmshare\n");
      const d = await engine.destroy();
      expect(d.errors).toEqual([]);
      expect(await host.readFile("/etc/motd.d/kvmshare")).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
