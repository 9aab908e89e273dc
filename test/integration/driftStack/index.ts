// The stack of test/integration/drift.test.ts: one resource per kind of drift a reviewer reads.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { NfsExport } from "../../../components/nfs";
import { SambaServer, SmbUser } from "../../../components/smb";
import { ZfsDataset, ZfsPool } from "../../../components/storage";

const config = new pulumi.Config();
const dir = config.require("dir");
const poolName = config.require("poolName");
const under = (p: string) => path.join(dir, p);

// A file: the export's line in its own exports file.
new NfsExport("share", {
  path: under("share"),
  clients: ["127.0.0.1"],
  access: "rw",
  fsid: 7,
  exportsDir: under("exports.d"),
  reloadCommand: ["true"],
  kernel: { mainExportsFile: "", etabPath: "" },
});

// A property: a dataset's compression and atime, on a file-backed pool.
const pool = new ZfsPool("pool", {
  poolName,
  vdevs: [{ type: "mirror", devices: [under("vdevs/d0.img"), under("vdevs/d1.img")] }],
  fileSizeMiB: 128,
  mountpoint: under("zfs"),
  allowDestroy: true,
});
new ZfsDataset("data", { pool, datasetName: `${poolName}/data`, properties: { compression: "gzip", atime: "off" }, allowDestroy: true });

// A secret: a Samba user's password (only the verdict "current" is ever observed).
const server = new SambaServer("smb", {
  configPath: under("smb.conf"),
  sharesDir: under("shares.d"),
  sharesIndexPath: under("shares.conf"),
  ports: [24999],
  interfaces: ["127.0.0.1"],
  passdbPath: under("passdb.tdb"),
  stateDir: under("state"),
  logFile: under("log.smbd"),
  reloadCommand: ["true"],
});
new SmbUser("games", { server, password: config.requireSecret("smbPassword") });
