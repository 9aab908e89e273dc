/**
 * The quick-start stack: the whole kvmshare path on one Linux box, inside `sandboxDir`,
 * loopback only, nothing outside the sandbox touched:
 *
 *   ZfsPool (mirror of two file vdevs)  ->  ZfsDataset (gzip, atime=off)
 *     -> HostGuestShare: NFSv4 export (checked by exportfs, written to the sandbox's
 *        exports.d, not reloaded) -> the "guest's" NFS mount unit (verified by systemd-analyze,
 *        installed under the sandbox root, enabled offline)
 *     -> ParallelTransfer of a source file into the share (chunked, several streams, verified)
 *
 * Exported as a function so `npm run sandbox` and the tests run the very same program.
 * `withZfs: false` (no ZFS on the machine) shares a plain directory instead.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ManagedFile } from "../components/files";
import { HostGuestShare } from "../components/share";
import { ZfsPool } from "../components/storage";
import { ParallelTransfer } from "../components/transfer";

export interface QuickstartOptions {
  /** Everything lives below this directory. */
  sandboxDir: string;
  /** Build the pool and dataset (needs a running ZFS: zfs-fuse or OpenZFS). @default true */
  withZfs?: boolean;
  /** File copied into the share by ParallelTransfer. @default `<sandboxDir>/source.bin` */
  sourceFile?: string;
  /** Pool name (unique on the machine). @default "ksquick" */
  poolName?: string;
}

export function quickstart(opts: QuickstartOptions): Record<string, pulumi.Output<unknown>> {
  const dir = opts.sandboxDir;
  const under = (p: string) => path.join(dir, p);
  const poolName = opts.poolName ?? "ksquick";

  const readme = new ManagedFile("quickstart-readme", {
    file: {
      path: under("README.kvmshare"),
      content:
        "This directory is managed by the kvmshare quick start.\n" +
        "Edit a file kvmshare manages (this one, etc/exports.d/*.exports, guest/etc/systemd/system/*.mount),\n" +
        "then run `npm run sandbox -- preview --refresh` to see the drift reported.\n",
      mode: "0644",
    },
  });

  const pool =
    opts.withZfs === false
      ? undefined
      : new ZfsPool("quickstart-pool", {
          poolName,
          vdevs: [{ type: "mirror", devices: [under("vdevs/disk0.img"), under("vdevs/disk1.img")] }],
          fileSizeMiB: 256,
          mountpoint: under("zfs"),
          // Sandbox data: `npm run sandbox -- destroy` may destroy this pool.
          allowDestroy: true,
        });

  const share = new HostGuestShare("quickstart", {
    protocol: "nfs",
    ...(pool
      ? {
          dataset: {
            pool,
            datasetName: `${poolName}/share`,
            properties: { compression: "gzip", atime: "off", mountpoint: under("zfs/share") },
            allowDestroy: true,
          },
        }
      : { hostPath: under("srv/share") }),
    serverAddress: "127.0.0.1",
    guest: {
      address: "127.0.0.1",
      mountPoint: "/mnt/share",
      // The "guest" is a root directory in the sandbox: units are verified and enabled offline.
      mount: { root: under("guest"), activation: "enable" },
    },
    nfs: {
      export: {
        fsid: 1,
        exportsDir: under("etc/exports.d"),
        kernel: { mainExportsFile: "", etabPath: "" },
        reloadCommand: ["true"],
      },
      mount: { nconnect: 4 },
    },
  });

  const transfer = new ParallelTransfer(
    "quickstart-transfer",
    {
      source: opts.sourceFile ?? under("source.bin"),
      destination: share.hostPath.apply((p) => path.join(p, "source.bin")),
      allowDestroy: true,
    },
    { dependsOn: [share] },
  );

  return {
    readme: readme.observed,
    pool: pool ? pool.guid : pulumi.output("(no ZFS)"),
    hostPath: share.hostPath,
    exportPath: share.exportPath,
    guestUnit: share.guestUnitName,
    transferredBytes: transfer.bytes,
    transferMiBps: transfer.mibps,
    transferStreams: transfer.streams,
  };
}
