/**
 * Stretch scenario: a TCG guest defined through VirtioFsPassthrough boots (libvirtd started by
 * hand, Debian kernel + busybox initramfs) and reads, over virtiofs and 9p, a file the host wrote
 * into the shared directory; it writes one back over virtiofs and the host sees it.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { VirtioFsPassthrough } from "../../components/guest";
import { testEngine } from "../harness/testEngine";
import { Libvirtd, startLibvirtd, tcgDomainXml } from "../fixtures/libvirtd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

process.env.KVMSHARE_QUIET = "1";
const kver = fs.existsSync("/boot") ? fs.readdirSync("/boot").find((f) => f.startsWith("vmlinuz-"))?.slice("vmlinuz-".length) : undefined;
const MODULES = [
  "drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio.ko", "drivers/virtio/virtio_pci_modern_dev.ko",
  "drivers/virtio/virtio_pci_legacy_dev.ko", "drivers/virtio/virtio_pci.ko", "fs/fuse/fuse.ko", "fs/fuse/virtiofs.ko",
  "fs/netfs/netfs.ko", "fs/fscache/fscache.ko", "net/9p/9pnet.ko", "net/9p/9pnet_virtio.ko", "fs/9p/9p.ko",
];
const describe = requirePrograms([...PROGRAMS.libvirt, "busybox", "cpio"], {
  root: true,
  files: kver
    ? MODULES.map((m) => ({ path: `/lib/modules/${kver}/kernel/${m}`, package: "linux-image-amd64" }))
    : [{ path: "/boot/vmlinuz-<version>", package: "linux-image-amd64" }],
});

// Constant script: the guest's /init. Markers on the serial console tell the test what happened.
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${MODULES.map((m) => path.basename(m)).join(" ")}; do insmod /lib/modules/$m; done
sleep 1
mkdir -p /mnt/v /mnt/p
if mount -t virtiofs share0 /mnt/v; then echo "KS-VIRTIOFS: $(cat /mnt/v/hello.txt)"; echo "written by the guest" > /mnt/v/from-guest.txt && sync && echo KS-WROTE; umount /mnt/v; fi
if mount -t 9p -o trans=virtio,version=9p2000.L,ro p9share /mnt/p; then echo "KS-9P: $(cat /mnt/p/hello.txt)"; umount /mnt/p; fi
echo KS-DONE
poweroff -f
`;

describe("a TCG guest boots with the passthrough and reads the host's file", () => {
  let lv: Libvirtd;
  const domain = `ks-boot-${process.pid}`;

  beforeAll(async () => {
    lv = await startLibvirtd();
  }, 60_000);
  afterAll(async () => {
    if (lv) await lv.stop();
  });

  it("reads over virtiofs and 9p, writes back over virtiofs", async () => {
    const root = path.join(lv.dir, "initramfs");
    for (const d of ["bin", "proc", "sys", "dev", "mnt", "lib/modules"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync("/usr/bin/busybox", path.join(root, "bin/busybox"));
    fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
    for (const m of MODULES) fs.copyFileSync(`/lib/modules/${kver}/kernel/${m}`, path.join(root, "lib/modules", path.basename(m)));
    fs.writeFileSync(path.join(root, "init"), INIT, { mode: 0o755 });
    const initrd = path.join(lv.dir, "initrd.cpio");
    execFileSync("sh", ["-c", 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', "sh", root, initrd]);

    const share = path.join(lv.dir, "dataset");
    fs.mkdirSync(share);
    fs.writeFileSync(path.join(share, "hello.txt"), "written by the host");
    fs.writeFileSync(path.join(lv.dir, "d.xml"), tcgDomainXml(domain, lv.dir, { initrd, memoryMiB: 512, cmdline: "console=ttyS0 panic=-1 quiet" }));
    lv.virsh("define", path.join(lv.dir, "d.xml"));

    const engine = testEngine({ stateFile: path.join(lv.dir, "state.json") });
    const t0 = Date.now();
    const r = await engine.up(() => {
      new VirtioFsPassthrough("boot", {
        domain,
        uri: lv.uri,
        filesystems: [
          { source: share, tag: "share0", cache: "none" },
          { source: share, tag: "p9share", driver: "9p", accessMode: "passthrough", readOnly: true },
        ],
      });
    });
    const applyMs = Date.now() - t0;
    expect(r.errors).toEqual([]);

    const t1 = Date.now();
    lv.virsh("start", domain);
    const consoleLog = path.join(lv.dir, `console-${domain}.log`);
    let out = "";
    while (Date.now() - t1 < 150_000) {
      out = fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, "utf8") : "";
      if (out.includes("KS-DONE")) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const bootMs = Date.now() - t1;
    expect(out).toContain("KS-VIRTIOFS: written by the host");
    expect(out).toContain("KS-9P: written by the host");
    expect(out).toContain("KS-WROTE");
    expect(fs.readFileSync(path.join(share, "from-guest.txt"), "utf8")).toBe("written by the guest\n");
    process.stdout.write(`passthrough apply ${applyMs} ms; start -> guest read virtiofs+9p and wrote back: ${bootMs} ms\n`);
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
  }, 240_000);
});
