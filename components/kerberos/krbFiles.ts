/**
 * The config files of a Kerberos kind: probed together, checked by MIT's profile parser (the
 * library every krb5 program reads krb5.conf and kdc.conf with), written atomically, and
 * reported as drift by path.
 */
import * as path from "path";
import { CommandError, Host } from "../../core/connection";
import { compareConfigFile, ConfigFileState, probeConfigFile } from "../../core/configFile";

/** One file a kind owns: content and octal mode (the file-backed kinds' `ConfigFileState`). */
export type KrbFile = ConfigFileState;

/** Files by path. */
export type KrbFiles = Record<string, KrbFile>;

/** What is on the host at each path (`null`: absent). */
export async function probeFiles(host: Host, paths: string[]): Promise<Record<string, KrbFile | null>> {
  const out: Record<string, KrbFile | null> = {};
  for (const p of paths) out[p] = (await probeConfigFile(host, p)) ?? null;
  return out;
}

/** The paths whose content or mode differ. */
export function changedFiles(desired: KrbFiles, live: Record<string, KrbFile | null> | undefined): string[] {
  return Object.keys(desired).filter((p) => {
    const now = live?.[p];
    return !now || compareConfigFile(desired[p], now).length > 0;
  });
}

/**
 * Have MIT's profile library parse a candidate krb5.conf/kdc.conf (`klist` loads it through
 * KRB5_CONFIG before it does anything else): a syntax error leaves the live file alone.
 */
export async function checkProfile(host: Host, file: string, content: string): Promise<void> {
  const candidate = `${file}.kvmshare-check`;
  await host.run(["mkdir", "-p", "--", path.posix.dirname(file)]);
  await host.writeFileAtomic(candidate, content, { mode: "0600" });
  try {
    const r = await host.run(["klist", "-c", "FILE:/nonexistent/kvmshare-cc"], { check: false, env: { KRB5_CONFIG: candidate } });
    if (/Improper format|configuration file/i.test(r.stderr)) {
      throw new CommandError(["klist", `(KRB5_CONFIG=candidate for ${file})`], r.code, `MIT krb5 refused the new ${file}; the live file was left as it was:\n${r.stderr.trim()}`, host.label);
    }
  } finally {
    await host.removeFile(candidate);
  }
}

/** Write the files that changed (after `check` accepted each); returns the changed paths. */
export async function writeFiles(host: Host, desired: KrbFiles, live: Record<string, KrbFile | null> | undefined, check?: (file: string, content: string) => Promise<void>): Promise<string[]> {
  const changed = changedFiles(desired, live);
  for (const p of changed) {
    if (check && live?.[p]?.content !== desired[p].content) await check(p, desired[p].content);
    await host.run(["mkdir", "-p", "--", path.posix.dirname(p)]);
    await host.writeFileAtomic(p, desired[p].content, { mode: desired[p].mode });
  }
  return changed;
}
