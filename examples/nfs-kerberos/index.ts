/**
 * NFSv4 with Kerberos and a second factor on one server: an MIT KDC whose users get a ticket
 * only through OTP pre-authentication, FreeRADIUS checking the user's password and TOTP token,
 * the server's host/ and nfs/ keys in its keytab, krb5.conf + idmapd, and an export that only
 * takes krb5p (encrypted). Users then run, with FAST armor from a host keytab:
 *
 *   kinit -T /run/armor.cc alice      # "Enter OTP Token Value:" -> <password><6-digit token>
 *
 *   pulumi config set --secret kdcMasterKey ...; pulumi config set --secret kdcAdminPassword ...
 *   pulumi config set --secret radiusSecret ...; pulumi config set --secret otpPassword ...
 *   pulumi config set --secret otpTotpSecret "$(head -c 20 /dev/urandom | base32)"
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { KerberosClient, KerberosKeytab, KerberosOtpUser, KerberosRealm, NfsExport, OtpRadius } from "kvmshare";

export = async () => {
  const cfg = new pulumi.Config();
  const sandbox = cfg.get("sandbox");
  const under = (p: string) => (sandbox ? `${sandbox}${p}` : p);
  const realmName = cfg.require("realm");
  const fqdn = cfg.require("fqdn");
  const kdcPort = cfg.getNumber("kdcPort") ?? 88;
  const radiusPort = cfg.getNumber("radiusPort") ?? 1812;
  const krb5Conf = under("/etc/krb5.conf");
  const kdcConf = under("/etc/krb5kdc/kdc.conf");
  // Sandbox: the daemons are started by PID with the private config (a real host uses systemd).
  const startByPid = (pidFile: string, cmd: string, env: string[] = []) => ["env", ...env, "sh", "-c", `if [ -s "$1" ]; then kill "$(cat "$1")"; sleep 0.5; fi; ${cmd} </dev/null >/dev/null 2>&1`, "sh", pidFile];

  const client = new KerberosClient("server", {
    realm: realmName,
    kdcs: [sandbox ? `127.0.0.1:${kdcPort}` : fqdn],
    ...(sandbox ? { krb5ConfPath: krb5Conf, idmapdConfPath: under("/etc/idmapd.conf"), gssdConfPath: under("/etc/nfs.conf.d/kvmshare-gssd.conf"), reloadCommand: ["true"] } : {}),
  });
  const radius = new OtpRadius("otp", {
    radiusSecret: cfg.requireSecret("radiusSecret"),
    users: [{ name: cfg.require("otpUser"), password: cfg.requireSecret("otpPassword"), totpSecret: cfg.requireSecret("otpTotpSecret") }],
    port: radiusPort,
    ...(sandbox
      ? { configDir: under("/etc/freeradius/kvmshare"), runDir: under("/run"), unitPath: "", restartCommands: [startByPid(under("/run/kvmshare-otp.pid"), `freeradius -d ${under("/etc/freeradius/kvmshare")}`)] }
      : {}),
  });
  const realm = new KerberosRealm("realm", {
    realm: realmName,
    masterKey: cfg.requireSecret("kdcMasterKey"),
    adminPassword: cfg.requireSecret("kdcAdminPassword"),
    kdcPorts: [kdcPort],
    otp: { radiusServer: `127.0.0.1:${radiusPort}`, radiusSecret: cfg.requireSecret("radiusSecret"), ...(sandbox ? { secretPath: under("/etc/krb5kdc/radius.secret") } : {}) },
    ...(sandbox
      ? {
          kdcConfPath: kdcConf,
          krb5ConfPath: krb5Conf,
          databasePath: under("/var/lib/krb5kdc/principal"),
          stashPath: under("/etc/krb5kdc/stash"),
          aclPath: under("/etc/krb5kdc/kadm5.acl"),
          restartCommand: startByPid(under("/run/krb5kdc.pid"), `krb5kdc -P ${under("/run/krb5kdc.pid")}`, [`KRB5_CONFIG=${krb5Conf}`, `KRB5_KDC_PROFILE=${kdcConf}`]),
        }
      : {}),
  }, { dependsOn: [client.configResource, radius.radiusResource] });
  const keytab = new KerberosKeytab("server", { realm, fqdn, ...(sandbox ? { keytabPath: under("/etc/krb5.keytab"), reloadCommand: ["true"] } : {}) });
  const user = new KerberosOtpUser(cfg.require("otpUser"), { realm });
  const exportPath = cfg.get("exportPath") ?? under("/srv/krb5share");
  new NfsExport("krb5share", {
    path: exportPath,
    clients: [{ host: cfg.get("guestAddress") ?? "192.168.122.10", access: "rw", sec: ["krb5p"] }],
    kerberosRealm: client.realm,
    ...(sandbox ? { exportsDir: under("/etc/exports.d"), kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] } : {}),
  }, { dependsOn: [keytab.keytabResource] });

  return { realm: realm.realm, principals: keytab.principals, otpPrincipal: user.principal, exportPath };
};
