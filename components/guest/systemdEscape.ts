/**
 * systemd's unit-name escaping for paths (`systemd-escape --path`), implemented in TypeScript so
 * names are known at preview time without a host. Mirrors `unit_name_path_escape()` in systemd's
 * `src/basic/unit-name.c`: simplify the path (collapse `//`, drop `.` components and the trailing
 * `/`), refuse `..`, strip the leading `/`, turn `/` into `-`, and hex-escape (`\xNN`, per UTF-8
 * byte) every byte that is not `[A-Za-z0-9:_.]`, plus a leading `.`. The root is `-`.
 */

/** Maximum length of a unit name, suffix included (systemd's UNIT_NAME_MAX). */
export const UNIT_NAME_MAX = 255;

const VALID = /^[A-Za-z0-9:_.]$/;

/** Problem with a path that cannot become a unit name, or undefined when it can. */
export function pathEscapeProblem(path: string): string | undefined {
  if (typeof path !== "string" || !path.startsWith("/")) return "must be an absolute path (start with '/')";
  if (path.includes("\0")) return "must not contain NUL";
  if (path.split("/").includes("..")) return "must be normalized: '..' components cannot be escaped into a unit name";
  return undefined;
}

/** `path` simplified the way systemd does before escaping (`/mnt//a/./b/` -> `/mnt/a/b`). */
export function simplifyPath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return "/" + parts.join("/");
}

function hex(byte: number): string {
  return "\\x" + byte.toString(16).padStart(2, "0");
}

/** `systemd-escape --path <path>` (throws on a path systemd refuses). */
export function escapePath(path: string): string {
  const problem = pathEscapeProblem(path);
  if (problem) throw new Error(`cannot escape '${path}' into a unit name: ${problem}`);
  const simple = simplifyPath(path);
  if (simple === "/") return "-";
  const bytes = Buffer.from(simple.slice(1), "utf8");
  let out = "";
  bytes.forEach((b, i) => {
    const ch = String.fromCharCode(b);
    if (ch === "/") out += "-";
    else if (b < 0x80 && VALID.test(ch) && !(i === 0 && ch === ".")) out += ch;
    else out += hex(b);
  });
  return out;
}

/** The mount unit name for a mount point, e.g. `/mnt/data` -> `mnt-data.mount`. */
export function mountUnitName(where: string, suffix: "mount" | "automount" = "mount"): string {
  return `${escapePath(where)}.${suffix}`;
}
