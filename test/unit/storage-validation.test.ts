/**
 * Storage: property/pool/policy validation messages, value normalisation, ZFS detection from the
 * real outputs of zfs-fuse 0.7.0 and OpenZFS, the feature table's messages, and parsing.
 */
import { formatProblem } from "../../core/errors";
import { normalizeAclEntry, observedFor, validateAcl } from "../../components/storage/acl";
import { parseHumanSize, parsePoolConfig } from "../../components/storage/zfsCli";
import { datasetRequirements, kind as datasetKind } from "../../components/storage/zfsDatasetKind";
import { validateDatasetSpec, validateZfsDataset } from "../../components/storage/zfsDatasetArgs";
import { classifyZfs, unmet } from "../../components/storage/zfsFeatures";
import { validatePoolSpec, ZfsPoolSpec } from "../../components/storage/zfsPoolArgs";
import { normalizeObserved, normalizeValue, propertyRequirements, validateProperties } from "../../components/storage/zfsProps";
import { validateReplicationSpec } from "../../components/protection/zfsReplicationArgs";

const props = (p: Record<string, unknown>) => validateProperties(p, "properties.").map(formatProblem);

describe("dataset property validation (values as OpenZFS accepts them)", () => {
  it("rejects sync=async with the valid values", () => {
    expect(props({ sync: "async" })).toEqual(["properties.sync: sync must be one of standard, always, disabled (got 'async')"]);
  });

  describe.each([
    [{ compression: "lz5" }, /properties.compression: compression must be one of on, off, lz4, zstd, zstd-1..19, zstd-fast\[-N\], gzip, gzip-1..9, lzjb, zle \(got 'lz5'\)/],
    [{ compression: "gzip-10" }, /compression must be one of/],
    [{ atime: "yes" }, /properties.atime: atime must be one of on, off \(got 'yes'\)/],
    [{ recordsize: "100K" }, /recordsize must be a power of two from 512 to 16M, e.g. 16K, 128K, 1M \(got '100K'\)/],
    [{ recordsize: "32M" }, /recordsize must be a power of two from 512 to 16M/],
    [{ recordsize: 256 }, /recordsize must be a power of two/],
    [{ quota: "lots" }, /quota must be a size like 512M, 10G, 1.5T, a number of bytes, or 'none' \(got 'lots'\)/],
    [{ reservation: "-1G" }, /reservation must be a size/],
    [{ mountpoint: "srv/share" }, /mountpoint must be an absolute normalized path, 'none' or 'legacy'/],
    [{ mountpoint: "/srv/../etc" }, /mountpoint must be an absolute normalized path/],
    [{ acltype: "posixacls" }, /acltype must be one of off, posix, nfsv4, posixacl, noacl/],
    [{ xattr: "fast" }, /xattr must be one of on, off, sa, dir/],
    [{ copies: 4 }, /copies must be one of 1, 2, 3 \(got '4'\)/],
    [{ dedup: "sha1" }, /dedup must be off, on, verify, or a checksum like sha256/],
    [{ compresion: "lz4" }, /properties.compresion: is not a property kvmshare manages; use one of compression, atime/],
    [{ "Com.Example:Owner": "x" }, /user property names are 'namespace:name' in lower case/],
    [{ atime: "on\noff" }, /must not contain NUL or newline/],
    [{ atime: { on: true } }, /must be a string or a number/],
  ] as [Record<string, unknown>, RegExp][])("rejects %j", (p, re) => {
    it("naming the field, the value and the valid list", () => {
      expect(props(p).join("\n")).toMatch(re);
    });
  });

  it("reports every bad property at once", () => {
    expect(props({ sync: "async", atime: "maybe", recordsize: "3K" })).toHaveLength(3);
  });

  it("accepts what OpenZFS accepts", () => {
    expect(
      props({
        compression: "zstd-fast-10",
        atime: "off",
        relatime: "on",
        recordsize: "1M",
        sync: "disabled",
        quota: "1.5T",
        refquota: "none",
        reservation: 1073741824,
        mountpoint: "/srv/vm",
        acltype: "posixacl",
        xattr: "sa",
        logbias: "throughput",
        copies: "2",
        dedup: "sha256,verify",
        "com.example:owner": "team-a",
      }),
    ).toEqual([]);
  });
});

describe("normalisation to what `zfs get -Hp` prints", () => {
  it.each([
    ["recordsize", "128K", "131072"],
    ["recordsize", "1M", "1048576"],
    ["quota", "none", "0"],
    ["quota", "10G", String(10 * 1024 ** 3)],
    ["compression", "gzip-6", "gzip"],
    ["compression", "zstd-3", "zstd"],
    ["acltype", "posixacl", "posix"],
    ["acltype", "noacl", "off"],
    ["xattr", "dir", "on"],
    ["mountpoint", "/srv/share/", "/srv/share"],
    ["com.example:x", "Keep As Is", "Keep As Is"],
  ])("%s=%s reads back as %s", (k, v, want) => {
    expect(normalizeValue(k, v)).toBe(want);
  });

  it("maps old spellings the host prints to the current ones", () => {
    expect(normalizeObserved("acltype", "posixacl")).toBe("posix");
    expect(normalizeObserved("quota", "none")).toBe("0");
  });
});

describe("what a dataset needs from the host's ZFS", () => {
  it("lists lz4, zstd, sync, large records, posix ACLs and xattr=sa", () => {
    const reqs = propertyRequirements({ compression: "zstd-5", sync: "standard", recordsize: "1M", acltype: "posix", xattr: "sa", atime: "off" }, "properties.");
    expect(reqs.map((r) => r.feature)).toEqual(["zstd", "syncProperty", "maxRecordsizeBytes", "posixAcl", "xattrSa"]);
    expect(reqs[2].atLeast).toBe(1048576);
    expect(propertyRequirements({ recordsize: "128K", compression: "gzip" }, "p.")).toEqual([]);
  });

  it("counts ACL entries as needing POSIX ACLs", () => {
    expect(datasetRequirements({ name: "t/a", acl: ["u:1000:rwx"] }).map((r) => r.field)).toEqual(["acl"]);
  });
});

const ZFS_FUSE_UPGRADE = "This system is currently running ZFS pool version 23.\n\nThe following versions are supported:\n";

describe("ZFS detection (real outputs)", () => {
  it("zfs-fuse 0.7.0: no `zfs version`, pool version 23, none of the OpenZFS features", () => {
    const info = classifyZfs({ zfsVersion: { code: 2, stdout: "" }, upgradeV: { code: 0, stdout: ZFS_FUSE_UPGRADE }, hasZfsFuse: true });
    expect(info).toMatchObject({ implementation: "zfs-fuse", version: "0.7.0", poolVersion: 23 });
    expect(info.features).toMatchObject({ lz4: false, zstd: false, syncProperty: false, maxRecordsizeBytes: 131072, sendEstimate: false, resumableReceive: false, parsableList: false, coherentReceive: false });
  });

  it("OpenZFS 2.1.11 from `zfs version`", () => {
    const info = classifyZfs({ zfsVersion: { code: 0, stdout: "zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n" } });
    expect(info).toMatchObject({ implementation: "openzfs", version: "2.1.11", poolVersion: 5000 });
    expect(info.features).toMatchObject({ lz4: true, zstd: true, syncProperty: true, maxRecordsizeBytes: 16 * 1024 * 1024, sendEstimate: true, resumableReceive: true });
  });

  it("older ZoL from the module version: 0.7 has lz4 and resumable receive but no zstd; 0.6.2 has no lz4", () => {
    const v07 = classifyZfs({ zfsVersion: { code: 2, stdout: "" }, upgradeV: { code: 0, stdout: "This system supports ZFS pool feature flags." }, moduleVersion: "0.7.12-2" });
    expect(v07.features).toMatchObject({ lz4: true, zstd: false, resumableReceive: true });
    const v062 = classifyZfs({ zfsVersion: { code: 2, stdout: "" }, moduleVersion: "0.6.2" });
    expect(v062.features).toMatchObject({ lz4: false, resumableReceive: false, maxRecordsizeBytes: 131072 });
  });

  it("no ZFS at all", () => {
    const info = classifyZfs({ zfsVersion: { code: 127, stdout: "" }, upgradeV: { code: 127, stdout: "" } });
    expect(info.implementation).toBe("none");
    expect(unmet(info, "root@h:22", []).map(formatProblem)).toEqual([
      "connection: has no ZFS (no 'zfs'/'zpool' that answers); install zfsutils-linux (OpenZFS) on root@h:22 (got 'root@h:22')",
    ]);
  });

  it("explains what the host lacks with field, value, host and fix", () => {
    const fuse = classifyZfs({ zfsVersion: { code: 2, stdout: "" }, upgradeV: { code: 0, stdout: ZFS_FUSE_UPGRADE }, hasZfsFuse: true });
    const msgs = unmet(fuse, "local", propertyRequirements({ compression: "lz4", sync: "always", recordsize: "1M" }, "properties.")).map(formatProblem);
    expect(msgs).toEqual([
      "properties.compression: zfs-fuse 0.7.0 (pool version 23) on local does not support compression=lz4; needs OpenZFS 0.6.3 or later; on this host use gzip, lzjb or zle (got 'lz4')",
      "properties.sync: zfs-fuse 0.7.0 (pool version 23) on local does not support the sync property; needs OpenZFS (zfs-fuse has no sync property); drop 'sync' for this host (got 'always')",
      "properties.recordsize: zfs-fuse 0.7.0 (pool version 23) on local does not support recordsize above 128K; needs OpenZFS 0.6.5+ (large_blocks feature); use 128K or less on this host (got '1M')",
    ]);
    const ozfs = classifyZfs({ zfsVersion: { code: 0, stdout: "zfs-2.1.11-1\n" } });
    expect(unmet(ozfs, "local", propertyRequirements({ compression: "lz4", sync: "always", recordsize: "1M" }, "p."))).toEqual([]);
  });
});

const pool = (over: Partial<ZfsPoolSpec>): ZfsPoolSpec => ({ name: "tank", vdevs: [{ type: "mirror", devices: ["/dev/sdb", "/dev/sdc"] }], ...over });
const poolMsgs = (over: Partial<ZfsPoolSpec>) => validatePoolSpec(pool(over)).map(formatProblem).join("\n");

describe("pool validation", () => {
  it("accepts a mirror, striped mirrors, raidz2 and single disks", () => {
    expect(validatePoolSpec(pool({}))).toEqual([]);
    expect(validatePoolSpec(pool({ vdevs: [{ type: "mirror", devices: ["/d/a", "/d/b"] }, { type: "mirror", devices: ["/d/c", "/d/d"] }] }))).toEqual([]);
    expect(validatePoolSpec(pool({ vdevs: [{ type: "raidz2", devices: ["/d/a", "/d/b", "/d/c", "/d/d"] }], ashift: 12 }))).toEqual([]);
    expect(validatePoolSpec(pool({ vdevs: [{ type: "disk", devices: ["/d/a"] }, { type: "disk", devices: ["/d/b"] }] }))).toEqual([]);
  });

  describe.each([
    [{ vdevs: [{ type: "mirror", devices: ["/dev/sdb"] }] }, /vdevs\[0\]\.devices: a mirror vdev needs at least 2 devices/],
    [{ vdevs: [{ type: "raidz2", devices: ["/a", "/b"] }] }, /a raidz2 vdev needs at least 3 devices/],
    [{ vdevs: [{ type: "raidz3", devices: ["/a", "/b", "/c"] }] }, /a raidz3 vdev needs at least 4 devices/],
    [{ vdevs: [{ type: "raid5", devices: ["/a", "/b"] }] }, /vdevs\[0\]\.type: must be one of disk, mirror, raidz1, raidz2, raidz3 \(got 'raid5'\)/],
    [{ vdevs: [{ type: "disk", devices: ["/a", "/b"] }] }, /a disk vdev has exactly one device/],
    [{ vdevs: [{ type: "mirror", devices: ["/a", "/b"] }, { type: "mirror", devices: ["/b", "/c"] }] }, /vdevs\[1\]\.devices\[0\]: is already used by vdevs\[0\]\.devices\[1\]/],
    [{ vdevs: [{ type: "mirror", devices: ["/a", "/b"] }, { type: "raidz1", devices: ["/c", "/d", "/e"] }] }, /mixes vdev types/],
    [{ vdevs: [{ type: "mirror", devices: ["sdb", "/dev/sdc"] }] }, /vdevs\[0\]\.devices\[0\]: must be an absolute path/],
    [{ vdevs: [] }, /vdevs: must list at least one vdev/],
    [{ name: "mirror" }, /name: must start with a letter.*reserved word/],
    [{ name: "1tank" }, /name: must start with a letter/],
    [{ ashift: 17 }, /ashift: must be an integer from 9 to 16 \(12 for 4 KiB sectors/],
    [{ fileSizeMiB: 16 }, /fileSizeMiB: must be an integer from 64/],
    [{ properties: { failmode: "retry" } }, /properties.failmode: failmode must be one of wait, continue, panic \(got 'retry'\)/],
    [{ properties: { ashift: "12" } }, /properties.ashift: is not a pool property kvmshare manages.*ashift has its own field/],
    [{ mountpoint: "tank" }, /mountpoint: must be an absolute path/],
  ] as [Partial<ZfsPoolSpec>, RegExp][])("rejects %j", (over, re) => {
    it("with field, value and fix", () => {
      expect(poolMsgs(over)).toMatch(re);
    });
  });
});

describe("dataset root mode (ZfsDataset.mode)", () => {
  it.each([["2775"], ["0750"], ["755"], ["1777"]])("accepts %s", (mode) => {
    expect(validateDatasetSpec({ name: "tank/a", mode })).toEqual([]);
  });

  it.each([
    ["0999", "mode: must be an octal mode like '0600' or '0644' (got '0999')"],
    ["rwxr-xr-x", "mode: must be an octal mode like '0600' or '0644' (got 'rwxr-xr-x')"],
    [493, "mode: must be an octal mode written as a string, e.g. '2775' or '0750' (got 493)"],
    ["0777", "mode: lets every user on the host write into the share's root without the sticky bit (anyone could delete or replace anyone's files): use a group ('2775' with the share's group) or add the sticky bit ('1777', like /tmp) (got '0777')"],
    ["2773", "mode: lets every user on the host write into the share's root without the sticky bit (anyone could delete or replace anyone's files): use a group ('2775' with the share's group) or add the sticky bit ('1777', like /tmp) (got '2773')"],
  ])("rejects %j naming field, value and fix", (mode, message) => {
    expect(validateDatasetSpec({ name: "tank/a", mode: mode as string }).map(formatProblem)).toEqual([message]);
  });

  it.each([
    [{ mountpoint: "none" }, "properties.mountpoint is 'none'"],
    [{ mountpoint: "legacy" }, "properties.mountpoint is 'legacy'"],
    [{ canmount: "off" as const }, "properties.canmount is 'off'"],
    [{ canmount: "noauto" as const }, "properties.canmount is 'noauto'"],
  ])("refuses a mode on a dataset ZFS does not mount (%j)", (properties, why) => {
    expect(validateDatasetSpec({ name: "tank/a", mode: "0750", properties }).map(formatProblem)).toEqual([
      `mode: needs the dataset mounted, but ${why}: drop mode, or mount the dataset (a mountpoint path, canmount on) (got '0750')`,
    ]);
  });

  it("the component reports it under the Args field, with everything else wrong", () => {
    expect(() => validateZfsDataset("share", { datasetName: "tank/a", mode: "8000", properties: { atime: "no" as never } })).toThrow(
      /properties\.atime[\s\S]*mode: must be an octal mode like '0600' or '0644' \(got '8000'\)/,
    );
  });

  it("renders 4 octal digits, names drifted mode, and projects the host's mode for refresh --diff", () => {
    const spec = { name: "tank/a", mode: "775" };
    const desired = datasetKind.render(spec, {});
    expect(desired).toEqual({ properties: {}, mode: "0775" });
    expect(datasetKind.compare!(desired, { properties: {}, mode: "0775" })).toEqual([]);
    expect(datasetKind.compare!(desired, { properties: {}, mode: "0755" })).toEqual(["mode"]);
    expect(datasetKind.compare!(desired, { properties: {}, mode: "<not mounted>" })).toEqual(["mode"]);
    expect(datasetKind.project!(spec, { properties: {}, mode: "0775" }).mode).toBe("775");
    expect(datasetKind.project!(spec, { properties: {}, mode: "0700" }).mode).toBe("0700");
    // Unset: not managed, never drift.
    expect(datasetKind.render({ name: "tank/a" }, {})).toEqual({ properties: {} });
    expect(datasetKind.compare!({ properties: {} }, { properties: {}, mode: "0700" })).toEqual([]);
  });
});

describe("dataset, ACL and replication validation", () => {
  it("requires pool/path dataset names", () => {
    expect(validateDatasetSpec({ name: "tank" }).map(formatProblem).join()).toMatch(/name: must be 'pool\/dataset/);
    expect(validateDatasetSpec({ name: "tank/a@snap" }).map(formatProblem).join()).toMatch(/no '@' or '#'/);
    expect(validateDatasetSpec({ name: "tank/a/b" })).toEqual([]);
  });

  it("wants acltype posix when ACL entries are declared", () => {
    expect(validateDatasetSpec({ name: "t/a", acl: ["u:1:rwx"], properties: { acltype: "nfsv4" } }).map(formatProblem)).toEqual([
      "properties.acltype: must be 'posix' (or 'posixacl') when acl entries are declared (got 'nfsv4')",
    ]);
  });

  it.each([
    ["u:1000:rwx", "user:1000:rwx"],
    ["d:g:kvm:rx", "default:group:kvm:r-x"],
    ["default:user:alice:w", "default:user:alice:-w-"],
    ["m::rx", "mask::r-x"],
    ["o::", undefined],
    ["u:alice:rwz", undefined],
    ["o:bob:r", undefined],
  ])("ACL entry %s normalises to %s", (e, want) => {
    expect(normalizeAclEntry(e)).toBe(want);
  });

  it("rejects malformed and duplicate ACL entries", () => {
    expect(validateAcl(["u:1:rwx", "u:1:r", "bogus"]).map(formatProblem)).toEqual([
      "acl[1]: sets user:1 twice; keep one entry per user/group (got 'u:1:r')",
      "acl[2]: must be a setfacl entry [d:]{u|g}:<name or id>:<rwx> or [d:]{m|o}::<rwx>, e.g. 'u:1000:rwx', 'd:g:kvm:r-x' (got 'bogus')",
    ]);
  });

  it("reads back the host's entry for each declared qualifier", () => {
    expect(observedFor(["u:1000:rwx", "d:g:kvm:rx"], ["user::rwx", "user:1000:r--", "group::r-x", "mask::r-x", "other::r-x"])).toEqual([
      "user:1000:r--",
      "default:group:kvm:<absent>",
    ]);
  });

  it("validates replication specs", () => {
    expect(validateReplicationSpec({ name: "b", source: "tank/a", target: "backup/a", keepSnapshots: 0, resumable: "maybe" as never }).map(formatProblem)).toEqual([
      "keepSnapshots: must be an integer from 1 to 1000 (at least 1: the newest common snapshot is the base of the next increment; bound 1000: replication needs one common snapshot; more serve no use) (got 0)",
      "resumable: must be true, false or 'auto' (got 'maybe')",
    ]);
  });
});

describe("parsing zpool output", () => {
  it.each([
    ["250M", 250 * 1024 ** 2],
    ["1.82T", Math.round(1.82 * 1024 ** 4)],
    ["0", 0],
    ["-", undefined],
  ])("reads the rounded size %j as %j bytes", (text, bytes) => {
    expect(parseHumanSize(text)).toBe(bytes);
  });

  it("parses zfs-fuse's `zpool status` (a mirror of files)", () => {
    const status = [
      "  pool: kstest",
      " state: ONLINE",
      " scrub: none requested",
      "config:",
      "",
      "\tNAME           STATE     READ WRITE CKSUM",
      "\tkstest         ONLINE       0     0     0",
      "\t  mirror-0     ONLINE       0     0     0",
      "\t    /tmp/zx/a  ONLINE       0     0     0",
      "\t    /tmp/zx/b  ONLINE       0     0     0",
      "",
      "errors: No known data errors",
    ].join("\n");
    expect(parsePoolConfig(status, "kstest")).toEqual([{ type: "mirror", devices: ["/tmp/zx/a", "/tmp/zx/b"] }]);
  });

  it("parses OpenZFS striped mirrors and raidz2, ignoring logs and cache", () => {
    const status = [
      "  pool: tank",
      " state: ONLINE",
      "config:",
      "",
      "\tNAME        STATE     READ WRITE CKSUM",
      "\ttank        ONLINE       0     0     0",
      "\t  mirror-0  ONLINE       0     0     0",
      "\t    vdb     ONLINE       0     0     0",
      "\t    vdc     ONLINE       0     0     0",
      "\t  mirror-1  ONLINE       0     0     0",
      "\t    vdd     ONLINE       0     0     0",
      "\t    vde     ONLINE       0     0     0",
      "\tlogs\t",
      "\t  vdf       ONLINE       0     0     0",
      "\tcache",
      "\t  vdg       ONLINE       0     0     0",
      "",
      "errors: No known data errors",
    ].join("\n");
    expect(parsePoolConfig(status, "tank")).toEqual([
      { type: "mirror", devices: ["vdb", "vdc"] },
      { type: "mirror", devices: ["vdd", "vde"] },
    ]);
    const rz = "config:\n\n\tNAME STATE\n\tpool ONLINE\n\t  raidz2-0 ONLINE\n\t    a ONLINE\n\t    b ONLINE\n\t    c ONLINE\n\t    d ONLINE\n";
    expect(parsePoolConfig(rz, "pool")).toEqual([{ type: "raidz2", devices: ["a", "b", "c", "d"] }]);
    const single = "config:\n\n\tNAME STATE\n\tp ONLINE\n\t  /f/a ONLINE\n\t  /f/b ONLINE\n";
    expect(parsePoolConfig(single, "p")).toEqual([{ type: "disk", devices: ["/f/a"] }, { type: "disk", devices: ["/f/b"] }]);
  });
});
