/**
 * Kind: one Samba (passdb) user. The password arrives in the resource's secrets and reaches
 * `smbpasswd -s` on stdin only: never an argument, a file, a log line or state.
 *
 * Drift: the probe reads the user's NT hash with `pdbedit -L -w` and compares it in memory,
 * in constant time, with the hash of the declared password; state keeps only the verdict
 * (`passwordCurrent`), never a hash. A user deleted, disabled, or given another password by
 * hand is therefore reported after refresh.
 */
import { Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { passwordMatches } from "./ntHash";
import { SmbUserSpec, validateSmbUser } from "./smbUserArgs";

export type SmbUserState = { present: boolean; enabled: boolean; passwordCurrent: boolean | null };

function password(secrets: Record<string, string>): string {
  const pw = secrets.password;
  if (typeof pw !== "string" || pw === "") throw new Error("password: is required (a pulumi.secret string)");
  if (/[\r\n]/.test(pw)) throw new Error("password: must not contain line breaks (smbpasswd reads one line)");
  return pw;
}

async function lookup(host: Host, s: SmbUserSpec): Promise<{ nt: string; flags: string } | undefined> {
  const r = await host.run(["pdbedit", "-s", s.configPath, "-L", "-w", "-u", s.name], { check: false });
  const line = r.stdout.split("\n").find((l) => l.startsWith(`${s.name}:`));
  if (!line) return undefined;
  const f = line.split(":");
  return { nt: f[3] ?? "", flags: f[4] ?? "" };
}

export const kind: HostKind<SmbUserSpec, SmbUserState> = {
  name: "SmbUser",
  version: 1,
  validate: (spec, secrets) => validateSmbUser(spec, secrets),
  async preflight(host, s) {
    const r = await host.run(["getent", "passwd", s.name], { check: false });
    return r.code === 0
      ? []
      : [{ field: "name", value: s.name, message: `has no Unix account on ${host.label}; Samba users need one (e.g. useradd --system --no-create-home --shell /usr/sbin/nologin ${s.name})` }];
  },
  render: () => ({ present: true, enabled: true, passwordCurrent: true }),
  async probe(host, s, secrets) {
    const u = await lookup(host, s);
    if (!u) return undefined;
    return {
      present: true,
      enabled: !/D/.test(u.flags),
      passwordCurrent: typeof secrets.password === "string" ? passwordMatches(secrets.password, u.nt) : null,
    };
  },
  async apply(host, { spec, live, secrets, log }) {
    const pw = password(secrets);
    if (!live || live.passwordCurrent !== true) {
      await host.run(["smbpasswd", "-c", spec.configPath, "-s", "-a", spec.name], { stdin: `${pw}\n${pw}\n`, secrets: [pw] });
      log(`${live ? "set the password of" : "added"} Samba user ${spec.name} on ${host.label}`);
    }
    if (!live || !live.enabled) await host.run(["smbpasswd", "-c", spec.configPath, "-e", spec.name]);
  },
  async remove(host, spec, _observed, log) {
    const r = await host.run(["smbpasswd", "-c", spec.configPath, "-x", spec.name], { check: false });
    if (r.code === 0) log(`removed Samba user ${spec.name} on ${host.label} (the Unix account stays)`);
  },
  id: (s) => `SmbUser:${s.configPath}:${s.name}`,
};
