/** Small host probes the export kinds share (argv only; values as positional parameters). */
import { Host } from "./connection";

/** Does the host have `cmd` on its PATH? */
export async function hasCommand(host: Host, cmd: string): Promise<boolean> {
  const r = await host.run(["sh", "-c", 'command -v -- "$1" >/dev/null 2>&1', "sh", cmd], { check: false });
  return r.code === 0;
}

/** Is `path` an existing directory on the host? */
export async function isDirectory(host: Host, path: string): Promise<boolean> {
  return (await host.run(["test", "-d", path], { check: false })).code === 0;
}
