/**
 * GuestMount in a real Debian guest (QEMU/TCG, systemd as PID 1) with activation "start":
 *   - SMB3: a hardened smbd on this machine's loopback (reached from the guest at 10.0.2.2),
 *     mounted `vers=3.1.1,seal` with the root-only credentials file; files cross both ways;
 *     a mount stopped by hand is drift and the next up starts it again.
 *   - virtiofs: a share of a directory of this machine, mounted on first access (.automount).
 *   - fstab style: a second virtiofs share through a managed fstab block and the fstab generator.
 *   - HostGuestShare over SMB end to end: server, user and share on this machine, the mount in
 *     the guest, in one program (one engine, two hosts).
 * Uses the VM lane's boot helpers (cached image, pinned host key, cleanup by PID).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hupPidFile, sandboxGlobals, sandboxSambaServer, Smbd, startSmbd } from "../fixtures/smbd";
import * as pulumi from "@pulumi/pulumi";
import { SambaServer, SmbShare, SmbUser } from "../../components/smb";
import { GuestMount } from "../../components/guest";
import { HostGuestShare } from "../../components/share";
import { Engine } from "../harness/engine";
import { describeVm, scenario, useGuest } from "./lane";

process.env.KVMSHARE_QUIET = "1";
const PORT = 26000 + (process.pid % 1000);
const PASSWORD = `Vm-${crypto.randomBytes(9).toString("base64url")}`;

describeVm("GuestMount and HostGuestShare in a real guest: SMB3 seal with a credentials file, virtiofs automount, fstab", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-guest-vm-"));
  const vmdata = path.join(dir, "vmdata");
  const vmfstab = path.join(dir, "vmfstab");
  const smbData = path.join(dir, "smbdata");
  let smbd: Smbd | undefined;
  let smbd2: Smbd | undefined;
  let hostEngine: Engine;
  let guestEngine: Engine;

  const lane = useGuest("guestVm.test.ts", "base", () => {
    for (const d of [vmdata, vmfstab, smbData]) fs.mkdirSync(d);
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(vmdata, "hello.txt"), "virtiofs from the host\n");
    fs.writeFileSync(path.join(vmfstab, "hello.txt"), "fstab-mounted virtiofs\n");
    return { shares: [{ source: vmdata, tag: "vmdata" }, { source: vmfstab, tag: "vmfstab" }] };
  });

  beforeAll(() => {
    hostEngine = new Engine({ stateFile: path.join(dir, "host-state.json") });
    guestEngine = new Engine({ stateFile: path.join(dir, "guest-state.json") });
  });
  afterAll(async () => {
    await Promise.all([smbd?.stop(), smbd2?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const smbProgram = () => {
    new GuestMount("smb", {
      connection: lane.guest.connection,
      where: "/mnt/smb share",
      smb: { server: "10.0.2.2", share: "data", username: "games", port: PORT, uid: 0, gid: 0 },
      password: pulumi.secret(PASSWORD),
    });
  };

  scenario(lane, "SMB3 3.1.1 + seal via a 0600 credentials file, started by systemd; drift; destroy unmounts", async () => {
    const { host } = lane.guest;
    // The host side: a hardened smbd on loopback, in a sandbox (the exports area's components).
    fs.chownSync(smbData, 5, 0);
    const conf = path.join(dir, "smb.conf");
    const hostUp = await hostEngine.up(() => {
      const server = new SambaServer("smb", sandboxSambaServer(dir, PORT));
      const games = new SmbUser("games", { server, password: pulumi.secret(PASSWORD) });
      new SmbShare("data", { server, path: smbData, validUsers: [games], hostsAllow: ["127.0.0.1"] });
    });
    expect(hostUp.errors).toEqual([]);
    smbd = await startSmbd(conf, PORT);

    const t0 = Date.now();
    const up = await guestEngine.up(smbProgram);
    const applyMs = Date.now() - t0;
    expect(up.errors).toEqual([]);
    const unit = "mnt-smb\\x20share.mount";
    expect((await host.run(["systemctl", "is-active", unit], { check: false })).stdout.trim()).toBe("active");
    expect((await host.run(["systemctl", "is-enabled", unit], { check: false })).stdout.trim()).toBe("enabled");
    const mnt = (await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "--target", "/mnt/smb share"])).stdout;
    expect(mnt).toMatch(/^cifs\s+\/\/10\.0\.2\.2\/data\s/);
    expect(mnt).toMatch(/vers=3\.1\.1/);
    expect(mnt).toMatch(/\bseal\b/);
    const st = (await host.run(["stat", "-c", "%a %U %G", "/etc/kvmshare/mnt-smb_x20share.cred"])).stdout.trim();
    expect(st).toBe("600 root root");
    // The password is in no unit file and was never an argument of a process still around.
    expect((await host.run(["grep", "-rl", "--", PASSWORD, "/etc/systemd/system"], { check: false })).stdout).toBe("");
    // Files cross both ways over the encrypted session.
    await host.run(["sh", "-c", 'echo "from the guest" > "$1/guest.txt"', "sh", "/mnt/smb share"]);
    expect(fs.readFileSync(path.join(smbData, "guest.txt"), "utf8")).toBe("from the guest\n");
    fs.writeFileSync(path.join(smbData, "host.txt"), "from the host\n");
    expect((await host.run(["cat", "/mnt/smb share/host.txt"])).stdout).toBe("from the host\n");
    process.stdout.write(`GuestMount SMB in a TCG guest (verify, cred file, units, daemon-reload, enable, start): ${applyMs} ms\n`);

    // Stopped by hand: drift; the next up starts it again.
    await host.run(["systemctl", "stop", unit]);
    const p = await guestEngine.preview(smbProgram, { refresh: true });
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.active");
    expect((await guestEngine.up(smbProgram)).errors).toEqual([]);
    expect((await host.run(["systemctl", "is-active", unit], { check: false })).stdout.trim()).toBe("active");

    const d = await guestEngine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "--target", "/mnt/smb share", "-n", "-o", "FSTYPE"], { check: false })).stdout.trim()).not.toBe("cifs");
    expect((await host.run(["test", "-e", "/etc/kvmshare/mnt-smb_x20share.cred"], { check: false })).code).toBe(1);
    expect(fs.readFileSync(path.join(smbData, "guest.txt"), "utf8")).toBe("from the guest\n");
  }, 300_000);

  scenario(lane, "virtiofs mounted on first access through an .automount unit", async () => {
    const { host } = lane.guest;
    const program = () => {
      new GuestMount("vfs", { connection: lane.guest.connection, where: "/mnt/vmdata", virtiofs: { tag: "vmdata" }, automount: true });
    };
    const up = await guestEngine.up(program);
    expect(up.errors).toEqual([]);
    expect((await host.run(["systemctl", "is-active", "mnt-vmdata.automount"], { check: false })).stdout.trim()).toBe("active");
    expect((await host.run(["cat", "/mnt/vmdata/hello.txt"])).stdout).toBe("virtiofs from the host\n");
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE", "--target", "/mnt/vmdata/hello.txt"])).stdout).toMatch(/virtiofs/);
    await host.run(["sh", "-c", 'echo back > /mnt/vmdata/from-guest.txt']);
    expect(fs.readFileSync(path.join(vmdata, "from-guest.txt"), "utf8")).toBe("back\n");
    expect((await guestEngine.destroy()).errors).toEqual([]);
    expect((await host.run(["systemctl", "is-active", "mnt-vmdata.automount"], { check: false })).stdout.trim()).not.toBe("active");
  }, 300_000);

  scenario(lane, "fstab style: a managed block, the fstab generator, systemd starts the generated unit", async () => {
    const { host } = lane.guest;
    const before = (await host.run(["cat", "/etc/fstab"])).stdout;
    const program = () => {
      new GuestMount("fst", { connection: lane.guest.connection, where: "/mnt/vmfstab", virtiofs: { tag: "vmfstab" }, style: "fstab", readOnly: true });
    };
    const up = await guestEngine.up(program);
    expect(up.errors).toEqual([]);
    const fstab = (await host.run(["cat", "/etc/fstab"])).stdout;
    expect(fstab.startsWith(before.endsWith("\n") || !before ? before : before + "\n")).toBe(true);
    expect(fstab).toContain("vmfstab /mnt/vmfstab virtiofs ro,x-systemd.mount-timeout=90 0 0");
    expect((await host.run(["cat", "/mnt/vmfstab/hello.txt"])).stdout).toBe("fstab-mounted virtiofs\n");
    expect((await host.run(["findmnt", "-n", "-o", "OPTIONS", "--target", "/mnt/vmfstab"])).stdout).toMatch(/\bro\b/);
    expect((await guestEngine.destroy()).errors).toEqual([]);
    expect((await host.run(["cat", "/etc/fstab"])).stdout).toBe(before);
  }, 300_000);

  scenario(lane, "HostGuestShare over SMB: host server, user and share plus the guest's mount in one program", async () => {
    const { host } = lane.guest;
    const port2 = PORT + 1;
    const sb = path.join(dir, "hgs");
    const data = path.join(sb, "data");
    fs.mkdirSync(data, { recursive: true });
    fs.chmodSync(sb, 0o755);
    fs.chownSync(data, 5, 0);
    const conf = path.join(sb, "smb.conf");
    const pidFile = path.join(sb, "smbd.pid");
    const engine = new Engine({ stateFile: path.join(dir, "hgs-state.json") });
    const program = () => {
      // smbd re-reads its config on SIGHUP (once the test started it)
      const server = new SambaServer("hgs-smb", sandboxSambaServer(sb, port2, hupPidFile(pidFile)));
      new HostGuestShare("hgs", {
        protocol: "smb",
        hostPath: data,
        serverAddress: "10.0.2.2", // this machine, as the TCG guest's user networking shows it
        guest: { address: "127.0.0.1", connection: lane.guest.connection, mountPoint: "/mnt/hgs" }, // the guest's traffic arrives from loopback
        smb: { server, username: "games", password: pulumi.secret(PASSWORD), mount: { port: port2 } },
      });
    };
    // smbd runs before the stack exists (as on a real host), from a bootstrap config on the same
    // port, passdb and state dirs; SambaServer then replaces the config and HUPs it.
    fs.writeFileSync(conf, ["[global]", ...sandboxGlobals({ port: port2, passdb: `${sb}/passdb.tdb`, stateDir: path.join(sb, "state"), logFile: `${sb}/log.smbd` }), ""].join("\n"));
    smbd2 = await startSmbd(conf, port2, { pidFile });
    const t0 = Date.now();
    const r = await engine.up(program);
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "--target", "/mnt/hgs"])).stdout).toMatch(/^cifs\s+\/\/10\.0\.2\.2\/hgs\s.*vers=3\.1\.1.*seal/);
    await host.run(["sh", "-c", 'echo "through HostGuestShare" > /mnt/hgs/hgs.txt']);
    expect(fs.readFileSync(path.join(data, "hgs.txt"), "utf8")).toBe("through HostGuestShare\n");
    process.stdout.write(`HostGuestShare SMB (host + guest) up: ${ms} ms\n`);
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "--target", "/mnt/hgs", "-n", "-o", "FSTYPE"], { check: false })).stdout.trim()).not.toBe("cifs");
  }, 400_000);
});
