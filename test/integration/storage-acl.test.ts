/**
 * The dataset kind's ACL path (setfacl / getfacl) on a real directory. zfs-fuse refuses setfacl,
 * so this runs on the temp directory's file system (ext4 here), which is what an OpenZFS dataset
 * with acltype=posix looks like to these tools.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost } from "../../core/connection";
import { applyAcl, normalizeAclEntry, observedFor, readAcl } from "../../components/storage/acl";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["setfacl", "getfacl"]);

describe("POSIX ACL entries on a mount point", () => {
  let dir: string;
  const host = new LocalHost();
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-acl-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("entries declared by name or by id are applied and read back in getfacl's spelling", async () => {
    const declared = ["u:nobody:rwx", "d:g:100:rx", "g:65534:r"];
    expect(observedFor(declared, await readAcl(host, dir))).toEqual(["user:nobody:<absent>", "default:group:100:<absent>", "group:65534:<absent>"]);
    await applyAcl(host, dir, declared);
    expect(observedFor(declared, await readAcl(host, dir))).toEqual(declared.map((d) => normalizeAclEntry(d)));
  });

  it("an entry changed by hand reads back changed (drift)", async () => {
    await host.run(["setfacl", "-m", "u:nobody:r", dir]);
    expect(observedFor(["u:nobody:rwx"], await readAcl(host, dir))).toEqual(["user:nobody:r--"]);
    await applyAcl(host, dir, ["u:nobody:rwx"]);
    expect(observedFor(["u:nobody:rwx"], await readAcl(host, dir))).toEqual(["user:nobody:rwx"]);
  });
});
