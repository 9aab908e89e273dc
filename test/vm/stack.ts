/**
 * What the VM files that stand one stack up in their guest share: the in-process engine with its
 * state in a temp dir (made when the file's scenarios start, removed after), and the ZFS reads
 * their checks make on the guest.
 */
import { Host } from "../../core/connection";
import { Engine } from "../harness/engine";
import { TestStack, useTestStack } from "../harness/stack";

/**
 * The in-process engine of one test file, its state in a fresh `os.tmpdir()/<prefix>XXXXXX`;
 * call it after `useGuest`, so the directory is made once the guest booted.
 */
export function useStack(prefix: string): TestStack<Engine> {
  return useTestStack(prefix, (stateFile) => new Engine({ stateFile }), {
    before: async () => {
      process.env.KVMSHARE_QUIET ??= "1";
    },
  });
}

/** sha256 of every file below `dir` on the host, one `sha256sum` line each, sorted by path. */
export async function treeSums(host: Host, dir: string): Promise<string> {
  return (await host.run(["sh", "-c", 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum', "sh", dir], { timeoutMs: 300_000 })).stdout;
}

/** The snapshot names (after the `@`) of `ds` and its children on the host, oldest first. */
export async function snaps(host: Host, ds: string): Promise<string[]> {
  const out = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-s", "createtxg", "-r", ds])).stdout;
  return out.split("\n").filter(Boolean).map((s) => s.split("@")[1]);
}
