/**
 * The config files of a Kerberos kind: probed together, checked by MIT's profile parser (the
 * library every krb5 program reads krb5.conf and kdc.conf with), written atomically, and
 * reported as drift by path.
 */
import * as path from "path";
import { CommandError, Host } from "../../core/connection";
import { ConfigFileState } from "../../core/configFile";

export { changedFiles, probeFiles, writeFiles } from "../../core/configFile";

/** One file a kind owns: content and octal mode (the file-backed kinds' `ConfigFileState`). */
export type KrbFile = ConfigFileState;

/** Files by path. */
export type KrbFiles = Record<string, KrbFile>;

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
