/**
 * Kind: a principal whose only way to a ticket is OTP pre-authentication. It gets a random
 * long-term key nobody knows (`addprinc -randkey`), `+requires_preauth`, and the `otp` string
 * attribute naming the realm's RADIUS token type and the RADIUS user name. So encrypted-timestamp
 * with a password cannot work: the KDC asks RADIUS, which checks password + TOTP (`OtpRadius`).
 * Clients need FAST armor (`kinit -T <armor ccache>`).
 */
import { HostKind } from "../../core/hostKind";
import { getPrincipal, kadminLocal } from "./kadmin";
import { KerberosOtpUserSpec, validateKerberosOtpUser } from "./kerberosOtpUserArgs";

export type KerberosOtpUserState = { requiresPreauth: boolean; otp: string | null };

export function otpAttribute(s: KerberosOtpUserSpec): string {
  return JSON.stringify([{ type: s.tokenType, username: s.radiusUser }]);
}

export const kind: HostKind<KerberosOtpUserSpec, KerberosOtpUserState> = {
  name: "KerberosOtpUser",
  version: 1,
  validate: validateKerberosOtpUser,
  render: (s) => ({ requiresPreauth: true, otp: otpAttribute(s) }),
  async probe(host, s) {
    const p = await getPrincipal(host, s, s.name);
    return p ? { requiresPreauth: /REQUIRES_PRE_AUTH/.test(p.attributes), otp: p.otp } : undefined;
  },
  async apply(host, { spec, live, log }) {
    if (!live) await kadminLocal(host, spec, ["addprinc", "-randkey", "+requires_preauth", spec.name], [], [/already exists/]);
    if (live && !live.requiresPreauth) await kadminLocal(host, spec, ["modprinc", "+requires_preauth", spec.name]);
    if (live?.otp !== otpAttribute(spec)) await kadminLocal(host, spec, ["set_string", spec.name, "otp", otpAttribute(spec)]);
    log(`${live ? "updated" : "added"} ${spec.name}@${spec.realm}: random key, OTP pre-authentication (token type ${spec.tokenType}, RADIUS user ${spec.radiusUser})`);
  },
  async remove(host, spec, _observed, log) {
    await kadminLocal(host, spec, ["delprinc", "-force", spec.name], [], [/does not exist/]);
    log(`deleted principal ${spec.name}@${spec.realm}`);
  },
  id: (s) => `KerberosOtpUser:${s.realm}:${s.name}`,
};
