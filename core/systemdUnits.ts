/**
 * systemd units kvmshare installs on a host (mount units, health timers, sanoid/syncoid timers)
 * are checked by systemd's own parser before they go live. Shared by every area that installs units.
 */
import * as path from "path";
import { Host } from "./connection";

/** Lines of `systemd-analyze verify` output that concern the candidate files (the rest is about the host's own units). */
export function relevant(stderr: string, needles: string[]): string[] {
  return stderr.split("\n").filter((l) => l.trim() && needles.some((n) => l.includes(n)));
}

/** `systemd-analyze verify` the candidate units in a scratch dir on the host; throws with its complaints. */
export async function verifyUnits(host: Host, units: Record<string, string>): Promise<void> {
  const dir = (await host.run(["mktemp", "-d", "/tmp/kvmshare-verify.XXXXXX"])).stdout.trim();
  try {
    const files: string[] = [];
    for (const [name, content] of Object.entries(units)) {
      const p = path.posix.join(dir, name);
      await host.writeFileAtomic(p, content, { mode: "0644" });
      files.push(p);
    }
    const r = await host.run(["systemd-analyze", "verify", "--man=no", "--generators=no", ...files], { check: false });
    const complaints = relevant(r.stderr + r.stdout, [dir, ...Object.keys(units)]);
    if (r.code !== 0 || complaints.length) {
      throw new Error(
        `systemd-analyze verify refused ${Object.keys(units).join(", ")} (exit ${r.code}); nothing was installed:\n` +
          (complaints.length ? complaints : r.stderr.trim().split("\n").slice(-8)).map((l) => "  " + l).join("\n"),
      );
    }
  } finally {
    await host.run(["rm", "-rf", "--", dir], { check: false });
  }
}

/** What becomes of a unit kvmshare installs: started now, also enabled at boot, or only written. */
export type Activation = "start" | "enable" | "none";
export const ACTIVATIONS: readonly Activation[] = ["start", "enable", "none"];
