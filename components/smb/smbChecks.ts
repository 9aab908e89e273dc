/**
 * Samba's own parser on a candidate file, and the shares index that includes every share file.
 * Scripts are constants: values arrive as positional parameters, content on stdin.
 */
import { CommandError, Host } from "../../core/connection";
import { renderSmbIndex } from "./smbRender";

/**
 * `testparm -s` on the candidate (a temp copy). testparm exits 0 on an unknown parameter (it
 * only says "Ignoring unknown parameter"), so its messages are read as well.
 */
export const TESTPARM_CHECK = `set -u
t=$(mktemp)
trap 'rm -f -- "$t"' EXIT
cat > "$t"
out=$(testparm -s --suppress-prompt "$t" 2>&1 >/dev/null)
rc=$?
if printf '%s\\n' "$out" | grep -E "Unknown parameter|Ignoring|Error|not boolean|[Ii]nvalid|Can't find include" >&2; then exit 1; fi
if [ $rc -ne 0 ]; then printf '%s\\n' "$out" | tail -n 5 >&2; fi
exit $rc
`;

/** Run testparm on `content`; throws quoting testparm's complaint. */
export async function testparm(host: Host, file: string, content: string): Promise<void> {
  const r = await host.run(["sh", "-c", TESTPARM_CHECK, "sh"], { stdin: content, check: false, timeoutMs: 60_000 });
  if (r.code !== 0) {
    const msg = (r.stderr + r.stdout).trim().split("\n").slice(-10).join("\n");
    throw new CommandError(["testparm", "-s", `(candidate for ${file})`], r.code, `testparm refused the new ${file}; the live file was left as it was:\n${msg}`, host.label);
  }
}

/** Writes the index only if the share files are still the ones it was rendered for (under a lock). */
export const INDEX_WRITE = `set -eu
dir=$1 index=$2 expected=$3
exec 9>>"$index.lock"
flock 9
cur=$(if [ -d "$dir" ]; then for f in "$dir"/*.conf; do [ -f "$f" ] && printf '%s\\n' "$f"; done; fi; :)
[ "$cur" = "$expected" ] || exit 75
tmp=$(mktemp "$index.XXXXXX")
cat > "$tmp"
chmod 0644 "$tmp"
mv -f -- "$tmp" "$index"
`;

const LIST = 'if [ -d "$1" ]; then for f in "$1"/*.conf; do [ -f "$f" ] && printf "%s\\n" "$f"; done; fi; :';

/** The share files in `dir`, in the shell's glob order (the order INDEX_WRITE compares in). */
export async function listShareFiles(host: Host, dir: string): Promise<string[]> {
  const r = await host.run(["sh", "-c", LIST, "sh", dir]);
  return r.stdout.split("\n").filter(Boolean);
}

/**
 * Make the index include exactly the share files in `dir`. Shares apply in parallel, so the
 * write is a compare-and-swap under `flock`: retried when the directory changed meanwhile.
 * Returns whether the index changed.
 */
export async function syncShareIndex(host: Host, dir: string, index: string): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const files = await listShareFiles(host, dir);
    const content = renderSmbIndex(dir, files);
    if ((await host.readFile(index)) === content) return false;
    const r = await host.run(["sh", "-c", INDEX_WRITE, "sh", dir, index, files.join("\n")], { stdin: content, check: false });
    if (r.code === 0) return true;
    if (r.code !== 75) throw new CommandError(["(write)", index], r.code, r.stderr, host.label);
    await new Promise((res) => setTimeout(res, 20 + Math.random() * 80));
  }
  throw new Error(`${index}: the share files in ${dir} kept changing; try again`);
}
