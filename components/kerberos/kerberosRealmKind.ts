/**
 * Kind: a realm's MIT KDC. kdc.conf (with an `[otp]` token type pointing at RADIUS when asked)
 * and kadm5.acl are parsed by MIT's profile library before they go live; the database is created
 * once with `kdb5_util create -s` (the master key on stdin, stashed on the KDC), the admin
 * principal added with its password on stdin. The RADIUS secret goes to a 0600 file kdc.conf
 * names. State holds the config files, whether the database and admin exist, and whether the
 * secret file holds the declared secret: never a key, password or secret.
 *
 * The database holds the realm (every principal and key): destroy leaves it unless
 * `allowDestroy`.
 */
import * as crypto from "crypto";
import * as path from "path";
import { HostKind } from "../../core/hostKind";
import { installedProblems } from "../../core/hostChecks";
import { render } from "../../core/render";
import { changedFiles, checkProfile, KrbFile, KrbFiles, probeFiles, writeFiles } from "./krbFiles";
import { getPrincipal, kadminLocal } from "./kadmin";
import { krb5Env } from "./krbNames";
import { KerberosRealmSpec, validateKerberosRealm } from "./kerberosRealmArgs";

export type KerberosRealmState = {
  files: Record<string, KrbFile | null>;
  database: boolean;
  admin: boolean;
  /** The RADIUS secret file holds the declared secret (null: no OTP, or not known). */
  radiusSecretCurrent: boolean | null;
};

export function renderKerberosRealm(s: KerberosRealmSpec): KrbFiles {
  const view = {
    ...s,
    kdcPorts: s.kdcPorts.join(","),
    otp: s.otp ? [{ ...s.otp, server: s.otp.radiusServer }] : [],
    logging: s.logDir ? [{ kdcLog: path.posix.join(s.logDir, "krb5kdc.log"), adminLog: path.posix.join(s.logDir, "kadmind.log") }] : [],
  };
  return {
    [s.kdcConfPath]: { content: render("kdc.conf.hbs", view), mode: "0644" },
    [s.aclPath]: { content: render("kadm5.acl.hbs", { name: s.name, realm: s.realm, admins: [s.adminPrincipal] }), mode: "0600" },
  };
}

function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = crypto.createHash("sha256").update(a).digest();
  const y = crypto.createHash("sha256").update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

export const kind: HostKind<KerberosRealmSpec, KerberosRealmState> = {
  name: "KerberosRealm",
  version: 1,
  validate: (s, secrets) => validateKerberosRealm(s, secrets),
  async preflight(host) {
    const message = `the MIT KDC is not installed on ${host.label}; install krb5-kdc krb5-admin-server krb5-otp (or set hostSetup: true)`;
    return installedProblems(host, "command -v kdb5_util && command -v kadmin.local", { field: "realm", message });
  },
  render: (s) => ({ files: renderKerberosRealm(s), database: true, admin: true, radiusSecretCurrent: s.otp ? true : null }),
  async probe(host, s, secrets) {
    const files = await probeFiles(host, Object.keys(renderKerberosRealm(s)));
    const database = (await host.run(["test", "-e", s.databasePath], { check: false })).code === 0;
    if (!database && Object.values(files).every((f) => f === null)) return undefined;
    const admin = database && files[s.kdcConfPath] !== null ? (await getPrincipal(host, s, s.adminPrincipal).catch(() => undefined)) !== undefined : false;
    let radiusSecretCurrent: boolean | null = null;
    if (s.otp) radiusSecretCurrent = typeof secrets.radiusSecret === "string" ? sameSecret((await host.readFile(s.otp.secretPath))?.replace(/\n$/, ""), secrets.radiusSecret) : null;
    return { files, database, admin, radiusSecretCurrent };
  },
  compare: (d, o) => [
    ...changedFiles(d.files as KrbFiles, o.files).map((p) => `files.${p}`),
    ...(["database", "admin", "radiusSecretCurrent"] as const).filter((k) => d[k] !== o[k] && !(k === "radiusSecretCurrent" && o[k] === null)),
  ],
  async apply(host, { spec, desired, live, secrets, log }) {
    const t0 = Date.now();
    const changed = await writeFiles(host, desired.files as KrbFiles, live?.files, (file, content) => (file === spec.kdcConfPath ? checkProfile(host, file, content) : Promise.resolve()));
    let restart = changed.length > 0;
    if (spec.otp && live?.radiusSecretCurrent !== true) {
      await host.writeFileAtomic(spec.otp.secretPath, `${secrets.radiusSecret}\n`, { mode: "0600" });
      restart = true;
    }
    if (!live?.database) {
      const mk = secrets.masterKey;
      await host.run(["mkdir", "-p", "--", path.posix.dirname(spec.databasePath), path.posix.dirname(spec.stashPath)]);
      await host.run(["kdb5_util", "-r", spec.realm, "create", "-s"], { stdin: `${mk}\n${mk}\n`, secrets: [mk], env: krb5Env(spec.krb5ConfPath, spec.kdcConfPath) });
      log(`created the database of realm ${spec.realm} on ${host.label} (${spec.databasePath}; master key stashed in ${spec.stashPath})`);
      restart = true;
    }
    if (!live?.admin) {
      const pw = secrets.adminPassword;
      await kadminLocal(host, spec, ["addprinc", spec.adminPrincipal], [pw, pw], [/already exists/]);
      log(`added admin principal ${spec.adminPrincipal}@${spec.realm}`);
    }
    if (restart) {
      await host.run(spec.restartCommand);
      log(`realm ${spec.realm} up on ${host.label} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${spec.restartCommand.join(" ")})`);
    }
  },
  async remove(host, spec, _observed, log) {
    if (!spec.allowDestroy) {
      log(`realm ${spec.realm}: the database ${spec.databasePath}, its stash and kdc.conf stay on ${host.label} (allowDestroy is not set)`);
      return;
    }
    await host.run(["kdb5_util", "-r", spec.realm, "destroy", "-f"], { check: false, env: krb5Env(spec.krb5ConfPath, spec.kdcConfPath) });
    for (const p of [...Object.keys(renderKerberosRealm(spec)), spec.stashPath, ...(spec.otp ? [spec.otp.secretPath] : [])]) await host.removeFile(p);
    log(`destroyed realm ${spec.realm} on ${host.label} (allowDestroy): database, stash, kdc.conf, ACL`);
  },
  replaceOn: ["realm", "databasePath"],
  id: (s) => `KerberosRealm:${s.realm}:${s.databasePath}`,
};
