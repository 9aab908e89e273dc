/**
 * GuestMount on this machine, through the in-process engine, into a throwaway root directory
 * (this machine runs no systemd as PID 1, so activation is `enable`: `systemctl --root` creates
 * the same symlinks offline; the VM lane runs daemon-reload/start for real). Every unit goes
 * through the real `systemd-analyze verify` before it is installed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { GuestMount, GuestMountArgs } from "../../components/guest";
import { verifyUnits } from "../../core/systemdUnits";
import { LocalHost } from "../../core/connection";
import { Engine } from "../harness/engine";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["systemd-analyze"]);

// Real tools on a 2-core machine that other test lanes share: give each step room.
jest.setTimeout(120_000);

describe("GuestMount in a sandbox root", () => {
  let dir: string;
  let root: string;
  let engine: Engine;
  const unitDir = () => path.join(root, "etc/systemd/system");
  const base = (): Partial<GuestMountArgs> => ({ root, activation: "enable" });
  // enable links point at the path inside the root (/etc/...), so look at the link, not its target
  const linked = (p: string) => {
    try {
      return fs.lstatSync(p).isSymbolicLink();
    } catch {
      return false;
    }
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-guest-"));
    root = path.join(dir, "root");
    fs.mkdirSync(root);
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const nfsProgram = (timeo = 600) => () => {
    new GuestMount("data", { ...base(), where: "/mnt/data", nfs: { server: "10.0.2.2", exportPath: "/tank/share", nconnect: 4, timeoDeciseconds: timeo } });
  };

  it("installs a verified NFS mount unit and enables it (offline, systemctl --root)", async () => {
    const t0 = Date.now();
    const r = await engine.up(nfsProgram());
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["create"]);
    const unit = fs.readFileSync(path.join(unitDir(), "mnt-data.mount"), "utf8");
    expect(unit).toContain("Options=vers=4.2,nconnect=4,hard,timeo=600,retrans=2,sec=sys");
    expect(fs.readlinkSync(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"))).toBe("/etc/systemd/system/mnt-data.mount");
    expect(r.outputs["data-mount"].observed).toMatchObject({ enabled: "enabled" });
    expect(r.outputs["data-mount"].unitName).toBe("mnt-data.mount");
    process.stdout.write(`GuestMount NFS create (verify + install + enable): ${ms} ms\n`);
  });

  it("a second up changes nothing", async () => {
    const r = await engine.up(nfsProgram());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("drift is reported after the unit is edited by hand, and the next up restores it", async () => {
    const f = path.join(unitDir(), "mnt-data.mount");
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("timeo=600", "timeo=10"));
    const p = await engine.preview(nfsProgram(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.mountUnit");
    const r = await engine.up(nfsProgram());
    expect(r.errors).toEqual([]);
    expect(fs.readFileSync(f, "utf8")).toContain("timeo=600");
  });

  it("drift is reported after the unit was disabled by hand", async () => {
    fs.unlinkSync(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"));
    const p = await engine.preview(nfsProgram(), { refresh: true });
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.enabled");
    await engine.up(nfsProgram());
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"))).toBe(true);
  });

  it("switching to automount disables the .mount's own link and enables the .automount", async () => {
    const auto = () => {
      new GuestMount("data", { ...base(), where: "/mnt/data", nfs: { server: "10.0.2.2", exportPath: "/tank/share", nconnect: 4 }, automount: true });
    };
    const r = await engine.up(auto);
    expect(r.errors).toEqual([]);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"))).toBe(false);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.automount"))).toBe(true);
    expect(fs.readFileSync(path.join(unitDir(), "mnt-data.mount"), "utf8")).not.toContain("[Install]");
    const back = await engine.up(nfsProgram());
    expect(back.errors).toEqual([]);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.automount"))).toBe(false);
    expect(fs.existsSync(path.join(unitDir(), "mnt-data.automount"))).toBe(false);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"))).toBe(true);
  });

  it("a bad option is refused at preview, before the guest changes", async () => {
    const before = fs.readFileSync(path.join(unitDir(), "mnt-data.mount"), "utf8");
    const p = await engine.preview(() => {
      new GuestMount("data", { ...base(), where: "/mnt/data", nfs: { server: "10.0.2.2", exportPath: "/tank/share", timeoDeciseconds: 5 } });
    });
    expect(p.errors.join("\n")).toMatch(/nfs.timeoDeciseconds: must be an integer from 10 to 6000 \(timeo is in tenths of a second: 600 = 60 s\) \(got 5\)/);
    expect(fs.readFileSync(path.join(unitDir(), "mnt-data.mount"), "utf8")).toBe(before);
  });

  it("an SMB mount writes a root-owned 0600 credentials file; the password is in no unit, no state in plain text", async () => {
    const password = "Pa55-word with spaces & $(dollar)";
    const program = () => {
      new GuestMount("smb", {
        ...base(),
        where: "/mnt/smb share",
        smb: { server: "10.0.2.2", share: "data", username: "alice", uid: 1000 },
        password: pulumi.secret(password),
        automount: true,
        automountIdleSec: 120,
      });
    };
    const r = await engine.up(program);
    expect(r.errors).toEqual([]);
    const cred = path.join(root, "etc/kvmshare/mnt-smb_x20share.cred");
    const st = fs.statSync(cred);
    expect((st.mode & 0o777).toString(8)).toBe("600");
    expect(st.uid).toBe(0);
    expect((fs.statSync(path.dirname(cred)).mode & 0o777).toString(8)).toBe("700");
    expect(fs.readFileSync(cred, "utf8")).toBe(`username=alice\npassword=${password}\n`);
    const mountUnit = fs.readFileSync(path.join(unitDir(), "mnt-smb\\x20share.mount"), "utf8");
    expect(mountUnit).toContain("Options=vers=3.1.1,seal,credentials=/etc/kvmshare/mnt-smb_x20share.cred,uid=1000");
    expect(mountUnit).not.toContain(password);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-smb\\x20share.automount"))).toBe(true);
    expect(fs.readFileSync(path.join(dir, "state.json"), "utf8")).not.toContain("Pa55-word");
    expect(r.outputs["smb-mount"].observed).toMatchObject({ credentials: { mode: "0600", owner: "root", content: "current" } });
    expect(JSON.stringify(r.outputs["smb-mount"].observed)).not.toContain("Pa55");
    // a credentials file loosened by hand is drift
    fs.chmodSync(cred, 0o644);
    const p = await engine.preview(program, { refresh: true });
    expect(p.changes.find((s) => s.op === "update" && s.name === "smb-mount")?.diffs).toContain("observed.credentials");
    await engine.up(program);
    expect((fs.statSync(cred).mode & 0o777).toString(8)).toBe("600");
  });

  it("a credentials file in an existing directory leaves that directory's mode alone", async () => {
    const etc = path.join(root, "etc");
    fs.chmodSync(etc, 0o755);
    const program = () => {
      new GuestMount("smb2", {
        ...base(),
        where: "/mnt/smb2",
        smb: { server: "10.0.2.2", share: "data", username: "bob", credentialsFile: "/etc/smb2.cred" },
        password: pulumi.secret("pw2"),
      });
    };
    const r = await engine.up(program);
    expect(r.errors).toEqual([]);
    expect((fs.statSync(path.join(etc, "smb2.cred")).mode & 0o777).toString(8)).toBe("600");
    expect((fs.statSync(etc).mode & 0o777).toString(8)).toBe("755");
  });

  it("fstab style: a managed block checked through systemd-fstab-generator, other lines kept", async () => {
    const fstab = path.join(root, "etc/fstab");
    fs.writeFileSync(fstab, "# static\nUUID=1234 / ext4 defaults 0 1\n", { mode: 0o640 });
    fs.chmodSync(fstab, 0o640);
    const program = () => {
      new GuestMount("p9", { ...base(), activation: "none", style: "fstab", where: "/mnt/p9", ninep: { tag: "share0" }, automount: true });
    };
    const r = await engine.up(program);
    expect(r.errors).toEqual([]);
    const text = fs.readFileSync(fstab, "utf8");
    expect(text.startsWith("# static\nUUID=1234 / ext4 defaults 0 1\n")).toBe(true);
    expect(text).toContain("share0 /mnt/p9 9p trans=virtio,version=9p2000.L,msize=262144,cache=mmap,x-systemd.automount,x-systemd.idle-timeout=600");
    expect((fs.statSync(fstab).mode & 0o777).toString(8)).toBe("640"); // the file's own mode is kept
    fs.writeFileSync(fstab, text.replace("cache=mmap", "cache=loose"));
    const p = await engine.preview(program, { refresh: true });
    expect(p.changes.find((s) => s.op === "update" && s.name === "p9-mount")?.diffs).toContain("observed.fstabEntry");
  });

  it("mounts that left the program (deleted by up) and destroy take units, symlinks, credentials and the fstab block, nothing else", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(unitDir(), "mnt-data.mount"))).toBe(false);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-data.mount"))).toBe(false);
    expect(linked(path.join(unitDir(), "remote-fs.target.wants/mnt-smb\\x20share.automount"))).toBe(false);
    expect(fs.existsSync(path.join(root, "etc/kvmshare/mnt-smb_x20share.cred"))).toBe(false);
    expect(fs.readFileSync(path.join(root, "etc/fstab"), "utf8")).toBe("# static\nUUID=1234 / ext4 defaults 0 1\n");
  });
});

describe("preflight: what the guest lacks is reported at preview, before anything changes", () => {
  let dir: string;
  let engine: Engine;
  const booted = fs.existsSync("/run/systemd/system");
  const hasCifs = ["/sbin/mount.cifs", "/usr/sbin/mount.cifs"].some((f) => fs.existsSync(f));
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-guest-pf-"));
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`activation 'start' on a machine ${booted ? "with" : "without"} systemd as init ${booted ? "passes" : "is refused"}`, async () => {
    const p = await engine.preview(() => {
      new GuestMount("pf", { where: "/mnt/kvmshare-preflight", virtiofs: { tag: "t" } });
    });
    if (booted) expect(p.errors.join("\n")).not.toMatch(/does not run systemd/);
    else expect(p.errors.join("\n")).toMatch(/activation: local does not run systemd \(no \/run\/systemd\/system\), so nothing can start the mount: use activation 'enable' or 'none'/);
    expect(fs.existsSync("/etc/systemd/system/mnt-kvmshare\\x2dpreflight.mount")).toBe(false);
  });

  it(`an SMB mount to start needs mount.cifs (${hasCifs ? "present" : "absent"} here)`, async () => {
    const p = await engine.preview(() => {
      new GuestMount("pf2", { where: "/mnt/kvmshare-pf2", smb: { server: "10.0.2.2", share: "d", username: "u" }, password: pulumi.secret("x") });
    });
    if (hasCifs) expect(p.errors.join("\n")).not.toMatch(/mount\.cifs/);
    else expect(p.errors.join("\n")).toMatch(/smb: local cannot mount smb: no mount.cifs helper; install apt-get install cifs-utils/);
  });

  it("activation 'enable' into an image root checks nothing the image would provide", async () => {
    const p = await engine.preview(() => {
      new GuestMount("pf3", { where: "/mnt/x", smb: { server: "h", share: "d", username: "u" }, password: pulumi.secret("x"), root: path.join(dir, "img"), activation: "enable" });
    });
    expect(p.errors).toEqual([]);
  });
});

describe("systemd-analyze verify guards installation", () => {
  const host = new LocalHost();

  it("refuses a unit whose Where= does not match its name", async () => {
    await expect(
      verifyUnits(host, { "mnt-data.mount": "[Mount]\nWhat=tag\nWhere=/mnt/other\nType=virtiofs\n" }),
    ).rejects.toThrow(/systemd-analyze verify refused mnt-data.mount[\s\S]*Where= setting doesn't match unit name/);
  });

  it("refuses a unit with an unknown key (systemd would silently ignore it)", async () => {
    await expect(verifyUnits(host, { "mnt-x.mount": "[Mount]\nWhat=tag\nWhere=/mnt/x\nType=virtiofs\nOptoins=ro\n" })).rejects.toThrow(
      /Unknown key 'Optoins'/,
    );
  });

  it("accepts what GuestMount renders", async () => {
    const { planGuestMount } = await import("../../components/guest/mountPlan");
    for (const spec of [
      { where: "/mnt/a-b c", nfs: { server: "fd00::1", exportPath: "/x y" }, automount: true },
      { where: "/mnt/s", smb: { server: "h", share: "d", username: "u" } },
      { where: "/mnt/v", virtiofs: { tag: "t" } },
      { where: "/mnt/100%", ninep: { tag: "t" }, readOnly: true },
    ]) {
      const p = planGuestMount(spec, { password: "x" });
      await expect(verifyUnits(host, Object.fromEntries(Object.entries(p.units).map(([n, u]) => [n, u.content])))).resolves.toBeUndefined();
    }
  });
});
