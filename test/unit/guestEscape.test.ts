/**
 * kvmshare's TypeScript `systemd-escape --path` against the real systemd-escape on this machine.
 */
import { execFileSync } from "child_process";
import { escapePath, mountUnitName, pathEscapeProblem, simplifyPath } from "../../components/guest/systemdEscape";

const real = (p: string): string => execFileSync("systemd-escape", ["--path", "--", p], { encoding: "utf8" }).trim();

const PATHS = [
  "/mnt/data",
  "/mnt/share-1",
  "/srv/a b/c",
  "/.hidden",
  "/mnt/.hidden/x",
  "/mnt/ünïcødé/日本",
  "/mnt/x:y_z.w",
  "/mnt//double///slash/",
  "/mnt/./dot",
  "/mnt/back\\slash",
  "/mnt/%i-specifier",
  "/mnt/quote'\"$`!&;|*?",
  "/",
  "/a",
  "/tank/vm-images/guest01",
];

describe("systemd-escape --path", () => {
  it.each(PATHS)("matches the real systemd-escape for %j", (p) => {
    expect(escapePath(p)).toBe(real(p));
  });

  it("names mount and automount units after the mount point", () => {
    expect(mountUnitName("/mnt/share-1")).toBe("mnt-share\\x2d1.mount");
    expect(mountUnitName("/mnt/data", "automount")).toBe("mnt-data.automount");
  });

  it("refuses '..' and relative paths, like systemd-escape", () => {
    expect(pathEscapeProblem("/mnt/../etc")).toMatch(/normalized/);
    expect(pathEscapeProblem("mnt/rel")).toMatch(/absolute/);
    expect(() => escapePath("/mnt/../etc")).toThrow(/cannot escape/);
    expect(() => execFileSync("systemd-escape", ["--path", "/mnt/../etc"], { stdio: "pipe" })).toThrow();
  });

  it("simplifies paths the way systemd does before escaping", () => {
    expect(simplifyPath("/mnt//a/./b/")).toBe("/mnt/a/b");
    expect(simplifyPath("/")).toBe("/");
  });
});
