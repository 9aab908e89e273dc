/**
 * Kind: FreeRADIUS in its own config directory, checking `<password><TOTP>` for the KDC's OTP
 * pre-authentication: the password against a salted SHA-512 hash (pap), the token with rlm_totp,
 * and each accepted user + code only once (post-auth's in-memory rlm_cache `otp_replay`, 90 s:
 * RFC 6238 5.2; FreeRADIUS 3.2.1 takes a code twice on its own, 3.2.7's dedup forgets it too soon).
 * radiusd.conf and the unit are plain config (state keeps them); clients.conf (the shared secret)
 * and users (hashes and TOTP secrets) are 0600 and only verified in memory against the declared
 * secrets (state keeps `clientsCurrent`/`usersCurrent`, never their content). Every candidate
 * config is checked with `freeradius -C -d` before it goes live.
 */
import * as crypto from "crypto";
import { CommandError, Host } from "../../core/connection";
import { sameSecret } from "../../core/configFile";
import { HostKind } from "../../core/hostKind";
import { installedProblems } from "../../core/hostChecks";
import { render } from "../../core/render";
import { changedFiles, KrbFile, KrbFiles, probeFiles, writeFiles } from "./krbFiles";
import { OtpRadiusSpec, otpRadiusPaths, validateOtpRadius } from "./otpRadiusArgs";

export type OtpRadiusState = { files: Record<string, KrbFile | null>; clientsCurrent: boolean | null; usersCurrent: boolean | null };

export function renderOtpRadiusConfig(s: OtpRadiusSpec): KrbFiles {
  const p = otpRadiusPaths(s);
  const view = { ...s, clientsPath: p.clients, usersPath: p.users, logDir: "/var/log/freeradius" };
  const files: KrbFiles = { [p.conf]: { content: render("radiusd-otp.conf.hbs", view), mode: "0644" } };
  if (s.unitPath) files[s.unitPath] = { content: render("kvmshare-otp-radius.service.hbs", view), mode: "0644" };
  return files;
}

export function renderClients(s: OtpRadiusSpec, secret: string): string {
  return render("radius-clients.conf.hbs", { name: s.name, secret, clients: s.kdcAddresses.map((address) => ({ address })) });
}

/** FreeRADIUS's SSHA2-512: base64(sha512(password + salt) + salt). */
export function ssha512(password: string, salt: Buffer): string {
  return Buffer.concat([crypto.createHash("sha512").update(password, "utf8").update(salt).digest(), salt]).toString("base64");
}

/** The salts in a users file, by user (so an unchanged password keeps its hash). */
export function userSalts(content: string | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = Object.create(null);
  for (const m of (content ?? "").matchAll(/^"([^"]+)" SSHA2-512-Password := "([A-Za-z0-9+/=]+)"/gm)) {
    const raw = Buffer.from(m[2], "base64");
    if (raw.length > 64) out[m[1]] = raw.subarray(64);
  }
  return out;
}

export function renderUsers(s: OtpRadiusSpec, secrets: Record<string, string>, salts: Record<string, Buffer>): string {
  const users = s.users.map((name) => ({
    name,
    hash: ssha512(secrets[`password:${name}`] ?? "", Object.prototype.hasOwnProperty.call(salts, name) ? salts[name] : crypto.randomBytes(16)),
    totp: (secrets[`totp:${name}`] ?? "").replace(/=+$/, ""),
  }));
  return render("radius-users.hbs", { name: s.name, users });
}

/** `freeradius -C` on a candidate copy of the whole directory (secrets arrive on stdin as a tar-free bundle). */
async function checkConfig(host: Host, s: OtpRadiusSpec, files: Record<string, string>): Promise<void> {
  const dir = (await host.run(["mktemp", "-d"])).stdout.trim();
  try {
    const p = otpRadiusPaths(s);
    const rel = (f: string) => f.replace(p.conf, `${dir}/radiusd.conf`).replace(p.clients, `${dir}/clients.conf`).replace(p.users, `${dir}/users`);
    for (const [f, content] of Object.entries(files)) {
      const body = content.split(s.configDir + "/").join(dir + "/").replace(`confdir = ${s.configDir}`, `confdir = ${dir}`).replace(`raddbdir = ${s.configDir}`, `raddbdir = ${dir}`);
      await host.writeFileAtomic(rel(f), body, { mode: "0600" });
    }
    const r = await host.run(["freeradius", "-C", "-d", dir], { check: false });
    if (r.code !== 0) throw new CommandError(["freeradius", "-C", "-d", "(candidate)"], r.code, `FreeRADIUS refused the new config; the live one was left as it was:\n${(r.stdout + r.stderr).split("\n").filter((l) => /error|fail|invalid|unknown/i.test(l)).slice(-8).join("\n")}`, host.label);
  } finally {
    await host.run(["rm", "-rf", "--", dir], { check: false });
  }
}

export const kind: HostKind<OtpRadiusSpec, OtpRadiusState> = {
  name: "OtpRadius",
  version: 1,
  validate: (s, secrets) => validateOtpRadius(s, secrets),
  async preflight(host) {
    const message = `FreeRADIUS with rlm_totp is not installed on ${host.label}; install freeradius (3.2 has rlm_totp) or set hostSetup: true`;
    return installedProblems(host, "command -v freeradius && test -e /usr/lib/freeradius/rlm_totp.so", { field: "users", message });
  },
  render: (s) => ({ files: renderOtpRadiusConfig(s), clientsCurrent: true, usersCurrent: true }),
  async probe(host, s, secrets) {
    const p = otpRadiusPaths(s);
    const files = await probeFiles(host, Object.keys(renderOtpRadiusConfig(s)));
    const clients = await host.readFile(p.clients);
    const users = await host.readFile(p.users);
    if (clients === undefined && users === undefined && Object.values(files).every((f) => f === null)) return undefined;
    const known = typeof secrets.radiusSecret === "string";
    return {
      files,
      clientsCurrent: known ? sameSecret(clients, renderClients(s, secrets.radiusSecret)) : null,
      usersCurrent: known ? sameSecret(users, renderUsers(s, secrets, userSalts(users))) : null,
    };
  },
  compare: (d, o) => [
    ...changedFiles(d.files as KrbFiles, o.files).map((p) => `files.${p}`),
    ...(["clientsCurrent", "usersCurrent"] as const).filter((k) => o[k] === false),
  ],
  async apply(host, { spec, desired, live, secrets, log }) {
    const p = otpRadiusPaths(spec);
    const users = renderUsers(spec, secrets, userSalts(await host.readFile(p.users)));
    const clients = renderClients(spec, secrets.radiusSecret);
    const conf = desired.files as KrbFiles;
    const configChanged = changedFiles(conf, live?.files);
    const secretsChanged = live?.clientsCurrent !== true || live?.usersCurrent !== true;
    if (!configChanged.length && !secretsChanged) return;
    await checkConfig(host, spec, { [p.conf]: conf[p.conf].content, [p.clients]: clients, [p.users]: users });
    await host.run(["mkdir", "-p", "--", spec.configDir, spec.runDir]);
    if (live?.clientsCurrent !== true) await host.writeFileAtomic(p.clients, clients, { mode: "0600" });
    if (live?.usersCurrent !== true) await host.writeFileAtomic(p.users, users, { mode: "0600" });
    await writeFiles(host, conf, live?.files);
    for (const argv of spec.restartCommands) await host.run(argv);
    log(`FreeRADIUS (password + TOTP) for ${spec.users.length} user(s) configured in ${spec.configDir} on ${host.label}`);
  },
  async remove(host, spec, _observed, log) {
    if (spec.unitPath) {
      await host.run(["systemctl", "disable", "--now", spec.unitPath.split("/").pop()!], { check: false });
      await host.removeFile(spec.unitPath);
    }
    const p = otpRadiusPaths(spec);
    for (const f of [p.conf, p.clients, p.users]) await host.removeFile(f);
    log(`removed the OTP RADIUS config ${spec.configDir} on ${host.label}`);
  },
  id: (s) => `OtpRadius:${s.configDir}`,
};
