/**
 * VirtioFsPassthrough against a real libvirtd started by hand (private mount namespace, its own
 * socket): a TCG domain gets virtiofs + 9p filesystems, shared memfd memory, vCPU/emulator pinning
 * and a NUMA policy; every XML it defines passed virt-xml-validate; a hand edit is drift; a
 * hand-broken XML never reaches `virsh define`; destroy gives back the domain as it was.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { VirtioFsPassthrough, VirtioFsPassthroughArgs } from "../../components/guest";
import { defineChecked } from "../../components/guest/virtioFsPassthroughKind";
import { LocalHost } from "../../core/connection";
import { Engine } from "../harness/engine";
import { Libvirtd, startLibvirtd, tcgDomainXml } from "../fixtures/libvirtd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

process.env.KVMSHARE_QUIET = "1";
// Real tools on a 2-core machine that other test lanes share: give each step room.
jest.setTimeout(120_000);
const run = requirePrograms(PROGRAMS.libvirt, { root: true });

run("VirtioFsPassthrough on a private libvirtd", () => {
  let lv: Libvirtd;
  let engine: Engine;
  let share: string;
  let original: string;
  const domain = `ks-pt-${process.pid}`;
  const validate = (xml: string) => {
    const f = path.join(lv.dir, `check-${Date.now()}.xml`);
    fs.writeFileSync(f, xml);
    try {
      const r = spawnSync("virt-xml-validate", [f, "domain"], { encoding: "utf8" });
      return `exit ${r.status}: ${r.stdout}${r.stderr}`;
    } finally {
      fs.unlinkSync(f);
    }
  };
  const args = (extra: Partial<VirtioFsPassthroughArgs> = {}): VirtioFsPassthroughArgs => ({
    domain,
    uri: lv.uri,
    filesystems: [
      { source: share, tag: "share0", cache: "always", xattr: true, posixLock: true, flock: true, queueSize: 1024 },
      { source: share, tag: "p9share", driver: "9p", accessMode: "mapped", readOnly: true },
    ],
    vcpuPins: [
      { vcpu: 0, cpuset: "0" },
      { vcpu: 1, cpuset: "1" },
    ],
    emulatorPin: "0-1",
    numaTune: { mode: "strict", nodeset: "0" },
    ...extra,
  });

  beforeAll(async () => {
    lv = await startLibvirtd();
    share = path.join(lv.dir, "share with 'quotes' & <angles>");
    fs.mkdirSync(share);
    fs.writeFileSync(path.join(share, "hello.txt"), "written by the host\n");
    fs.writeFileSync(path.join(lv.dir, "domain.xml"), tcgDomainXml(domain, lv.dir));
    lv.virsh("define", path.join(lv.dir, "domain.xml"));
    original = lv.virsh("dumpxml", "--inactive", "--domain", domain);
    engine = new Engine({ stateFile: path.join(lv.dir, "state.json") });
  }, 60_000);
  afterAll(async () => {
    if (lv) await lv.stop();
  });

  it("adds virtiofs + 9p, shared memfd memory, pinning and numatune, through virt-xml-validate and virsh define", async () => {
    const t0 = Date.now();
    const r = await engine.up(() => {
      new VirtioFsPassthrough("vm", args());
    });
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["create"]);
    const xml = lv.virsh("dumpxml", "--inactive", "--domain", domain);
    expect(validate(xml)).toMatch(/^exit 0: .*validates/);
    expect(xml).toMatch(/<driver type='virtiofs' queue='1024'\/>/);
    expect(xml).toMatch(/<binary xattr='on'>\s*<cache mode='always'\/>\s*<lock posix='on' flock='on'\/>/);
    expect(xml).toContain("<source dir='" + share.replace(/&/g, "&amp;").replace(/'/g, "&apos;").replace(/</g, "&lt;").replace(/>/g, "&gt;") + "'/>");
    expect(xml).toMatch(/<filesystem type='mount' accessmode='mapped'>[\s\S]*<target dir='p9share'\/>\s*<readonly\/>/);
    expect(xml).toMatch(/<memoryBacking>\s*<source type='memfd'\/>\s*<access mode='shared'\/>/);
    expect(xml).toMatch(/<vcpupin vcpu='1' cpuset='1'\/>\s*<emulatorpin cpuset='0-1'\/>/);
    expect(xml).toMatch(/<numatune>\s*<memory mode='strict' nodeset='0'\/>/);
    expect(r.outputs["vm-domain"].restartNeeded).toBe(false);
    process.stdout.write(`VirtioFsPassthrough create (dumpxml, edit, virt-xml-validate, define, probe): ${ms} ms\n`);
  });

  it("a second up changes nothing", async () => {
    const r = await engine.up(() => {
      new VirtioFsPassthrough("vm", args());
    });
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("the domain starts with the passthrough (TCG) and the pins are live", () => {
    const t0 = Date.now();
    lv.virsh("start", domain);
    process.stdout.write(`TCG domain with virtiofs + 9p started in ${Date.now() - t0} ms\n`);
    expect(lv.virsh("domstate", "--domain", domain).trim()).toBe("running");
    expect(lv.virsh("vcpupin", "--domain", domain)).toMatch(/0\s+0\s*\n\s*1\s+1/);
  }, 60_000);

  it("drift is reported after the domain XML was changed by hand (virsh edit), and up restores it", async () => {
    const xml = lv.virsh("dumpxml", "--inactive", "--domain", domain).replace("<cache mode='always'/>", "<cache mode='none'/>");
    const f = path.join(lv.dir, "hand.xml");
    fs.writeFileSync(f, xml);
    lv.virsh("define", f);
    const program = () => {
      new VirtioFsPassthrough("vm", args());
    };
    const p = await engine.preview(program, { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.filesystems");
    const r = await engine.up(program);
    expect(r.errors).toEqual([]);
    expect(lv.virsh("dumpxml", "--inactive", "--domain", domain)).toContain("<cache mode='always'/>");
  });

  it("a change while the VM runs is defined for the next boot and reported as restartNeeded", async () => {
    const r = await engine.up(() => {
      new VirtioFsPassthrough("vm", args({ emulatorPin: "1" }));
    });
    expect(r.errors).toEqual([]);
    expect(r.outputs["vm-domain"].restartNeeded).toBe(true);
    lv.virsh("destroy", domain);
    await engine.refresh();
    expect(engine.state().find((x) => x.name === "vm-domain")?.outputs.restartNeeded).toBe(false);
  });

  it("a hand-broken domain XML is refused by virt-xml-validate before virsh define", async () => {
    const before = lv.virsh("dumpxml", "--inactive", "--domain", domain);
    const broken = before.replace(/<target dir='share0'\/>/, "<target dir='share0'/><bogus/>").replace("<vcpu placement='static'>2</vcpu>", "<vcpu>two</vcpu>");
    await expect(defineChecked(new LocalHost(), lv.uri, broken)).rejects.toThrow(/virt-xml-validate refused the domain XML \(exit \d\); nothing was defined/);
    expect(lv.virsh("dumpxml", "--inactive", "--domain", domain)).toBe(before);
  });

  it("a virtiofs cache mode libvirt's schema refuses is stopped at preview", async () => {
    const p = await engine.preview(() => {
      new VirtioFsPassthrough("vm", args({ filesystems: [{ source: share, tag: "share0", cache: "auto" as never }] }));
    });
    expect(p.errors.join("\n")).toMatch(/filesystems\[0\].cache: must be 'always' or 'none'/);
  });

  it("a domain that does not exist is a clear error", async () => {
    const e2 = new Engine({ stateFile: path.join(lv.dir, "state2.json") });
    const r = await e2.up(() => {
      new VirtioFsPassthrough("ghost", { domain: "no-such-vm", uri: lv.uri, filesystems: [{ source: share, tag: "x" }] });
    });
    expect(r.errors.join("\n")).toMatch(/domain 'no-such-vm' not found at qemu:\/\/\/system\?socket=.*define the VM first/);
  });

  it("destroy takes out exactly what kvmshare added: the domain is as it was", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    const xml = lv.virsh("dumpxml", "--inactive", "--domain", domain);
    expect(xml).not.toMatch(/filesystem|memoryBacking|cputune|numatune|kvmshare/);
    // libvirt assigned PCI addresses to the filesystems; everything else is byte-identical
    expect(xml.replace(/\s+<controller type='pci' index='\d+' model='pcie-root-port'>[\s\S]*?<\/controller>/g, "")).toBe(
      original.replace(/\s+<controller type='pci' index='\d+' model='pcie-root-port'>[\s\S]*?<\/controller>/g, ""),
    );
  });
});
