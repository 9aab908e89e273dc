/**
 * Kind: a host's keytab holding its service principals' keys. Principals missing on the KDC are
 * created with random keys (`addprinc -randkey`), then `ktadd` writes their keys straight into
 * the keytab on the host: with `kadmin.local` when the host is the KDC, else with `kadmin` over
 * its encrypted protocol (the admin password on stdin). Keys never pass through Pulumi: state
 * holds the principals and key versions (`klist -k`), never key material. The keytab is 0600.
 */
import { CommandError, Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { kadminLine, krb5Env } from "./krbNames";
import { kadminLocal } from "./kadmin";
import { KerberosKeytabSpec, validateKerberosKeytab } from "./kerberosKeytabArgs";

export type KerberosKeytabState = { principals: string[]; kvno: Record<string, number>; mode: string };

/** The principals and their highest kvno in a keytab (`klist -k`). */
export async function readKeytab(host: Host, path: string, env?: Record<string, string>): Promise<{ kvno: Record<string, number>; mode: string } | undefined> {
  const st = await host.run(["stat", "-c", "%a", "--", path], { check: false });
  if (st.code !== 0) return undefined;
  const r = await host.run(["klist", "-k", path], { check: false, env });
  const kvno: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^\s*(\d+)\s+(\S+)\s*$/gm)) kvno[m[2]] = Math.max(kvno[m[2]] ?? 0, Number(m[1]));
  return { kvno, mode: "0" + st.stdout.trim() };
}

async function kadmin(host: Host, s: KerberosKeytabSpec, password: string, words: string[]): Promise<void> {
  const r = await host.run(["kadmin", "-r", s.realm, "-p", `${s.adminPrincipal}@${s.realm}`, "-q", kadminLine(words)], {
    stdin: `${password}\n`,
    env: krb5Env(s.krb5ConfPath),
    check: false,
    secrets: [password],
  });
  if (r.code !== 0 || (/\b(while|error|cannot|failed)\b/i.test(r.stderr) && !/already exists/.test(r.stderr))) {
    throw new CommandError(["kadmin", "-p", s.adminPrincipal, "-q", `${words[0]} ...`], r.code || 1, r.stderr, host.label, [password]);
  }
}

const full = (s: KerberosKeytabSpec, p: string) => `${p}@${s.realm}`;

export const kind: HostKind<KerberosKeytabSpec, KerberosKeytabState> = {
  name: "KerberosKeytab",
  version: 1,
  validate: (s, secrets) => validateKerberosKeytab(s, secrets),
  render: (s) => ({ principals: s.principals.map((p) => full(s, p)).sort(), kvno: {}, mode: "0600" }),
  async probe(host, s) {
    const k = await readKeytab(host, s.keytabPath, krb5Env(s.krb5ConfPath));
    if (!k) return undefined;
    const principals = s.principals.map((p) => full(s, p)).filter((p) => k.kvno[p] !== undefined).sort();
    return { principals, kvno: Object.fromEntries(principals.map((p) => [p, k.kvno[p]])), mode: k.mode };
  },
  compare: (d, o) => (["principals", "mode"] as const).filter((k) => JSON.stringify(d[k]) !== JSON.stringify(o[k])),
  async apply(host, { spec, live, secrets, log }) {
    const missing = spec.principals.filter((p) => !live?.principals.includes(full(spec, p)));
    const paths = { realm: spec.realm, krb5ConfPath: spec.krb5ConfPath, kdcConfPath: spec.kdcConfPath ?? "" };
    for (const p of missing) {
      if (spec.via === "kadmin.local") {
        await kadminLocal(host, paths, ["addprinc", "-randkey", p], [], [/already exists/]);
        await kadminLocal(host, paths, ["ktadd", "-k", spec.keytabPath, p]);
      } else {
        await kadmin(host, spec, secrets.adminPassword, ["addprinc", "-randkey", p]);
        await kadmin(host, spec, secrets.adminPassword, ["ktadd", "-k", spec.keytabPath, p]);
      }
    }
    await host.run(["chmod", "0600", "--", spec.keytabPath]);
    if (missing.length) {
      log(`added the keys of ${missing.join(", ")} to ${spec.keytabPath} on ${host.label} (via ${spec.via}); ${spec.reloadCommand.join(" ")}`);
      await host.run(spec.reloadCommand, { check: false });
    }
  },
  async remove(host, spec, _observed, log) {
    const k = await readKeytab(host, spec.keytabPath);
    if (!k) return;
    const mine = new Set(spec.principals.map((p) => full(spec, p)));
    if (Object.keys(k.kvno).every((p) => mine.has(p))) {
      await host.removeFile(spec.keytabPath);
      log(`removed ${spec.keytabPath} on ${host.label} (it held only ${[...mine].join(", ")}); the principals stay on the KDC`);
    } else log(`${spec.keytabPath} on ${host.label} holds other keys too: left as it is`);
  },
  id: (s) => `KerberosKeytab:${s.keytabPath}:${s.realm}`,
};
