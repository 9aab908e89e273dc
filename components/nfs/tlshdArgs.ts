/**
 * Tlshd: ktls-utils' `tlshd`, the user-space TLS handshake agent the kernel calls for NFS
 * RPC-with-TLS (RFC 9289, `xprtsec=tls|mtls`). The args (declared once, documented), the facts
 * of the package, the resolved spec the host-side kind gets, the files it writes, and validation
 * (pure: every problem at once; a private key never reaches a message).
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, SecretRules } from "../../core/validate";
import type { HostSetupArgs } from "../host";

/** The server end of a handshake: what `tlshd` presents to NFS clients, and whom it trusts. */
export interface TlshdServerArgs {
  /** The server's certificate (PEM, `-----BEGIN CERTIFICATE-----`; a chain: the server's first), e.g. from a PKI resource. @fieldKind free */
  certificate: pulumi.Input<string>;
  /** The certificate's private key (PEM, unencrypted; a `pulumi.secret`): written 0600, kept out of state and logs. @fieldKind free secret */
  privateKey: pulumi.Input<string>;
  /** CA certificate(s) (PEM) that signed the clients' certificates, checked for `mtls` exports. @default unset: the system's trust store @fieldKind free */
  trustedCa?: pulumi.Input<string>;
}

/** The client end of a handshake: whom `tlshd` trusts, and (for `mtls` mounts) what it presents. */
export interface TlshdClientArgs {
  /** CA certificate(s) (PEM) that signed the NFS servers' certificates. @fieldKind free */
  trustedCa: pulumi.Input<string>;
  /** The client's certificate (PEM) for `xprtsec=mtls` mounts; set with `privateKey`. @default unset: no client certificate (`tls` mounts only) @fieldKind free */
  certificate?: pulumi.Input<string>;
  /** Its private key (PEM, unencrypted; a `pulumi.secret`): written 0600, kept out of state and logs. @default unset: no client certificate @fieldKind free secret */
  privateKey?: pulumi.Input<string>;
}

export interface TlshdArgs extends HostSetupArgs {
  /** The host (an NFS server, a guest, or both). @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** tlshd's config file (tlshd.conf(5); tlshd reads it at start). @default "/etc/tlshd.conf" @fieldKind path file */
  configPath?: string;
  /** Directory of the certificate and key files kvmshare writes (`server.crt`, `server.key` 0600, `server-ca.crt`, `client.*`). @default "/etc/tlshd" @fieldKind path dir */
  certDir?: string;
  /** The server end (hosts that export with `xprtsec`). @default unset: no server end (set server, client or both) */
  server?: TlshdServerArgs;
  /** The client end (guests that mount with `xprtsec`). @default unset: no client end (set server, client or both) */
  client?: TlshdClientArgs;
  /** tlshd's `[debug]` `loglevel`, `tls` and `nl` (0-3; to the journal). @default 0 */
  debugLevel?: number;
  /** Keep `tlshd.service` enabled and running as declared state (a `HostService` child: stopped or disabled by hand is drift). @default true */
  manageService?: boolean;
}

/** Debian's (and Fedora's) ktls-utils: the package, its program and its unit. */
export const TLSHD_FACTS = {
  package: "ktls-utils",
  binary: "tlshd",
  unit: "tlshd.service",
  /** The Debian release that first ships ktls-utils (1.0.0): 13, trixie. */
  firstDebian: 13,
};

type TlshdDefaults = "configPath" | "certDir" | "debugLevel" | "manageService";

const DEFAULTS: Defaults<Pick<TlshdArgs, TlshdDefaults>> = { configPath: "/etc/tlshd.conf", certDir: "/etc/tlshd", debugLevel: 0, manageService: true };

/** The public PEMs of one end (private keys travel as secrets `server.privateKey`, `client.privateKey`). */
export interface TlshdEndSpec {
  certificate?: string;
  trustedCa?: string;
  /** A private key is declared for this end (its value is in the secrets). */
  hasKey: boolean;
}

/** What the Tlshd kind gets: every default filled, the certificates as text, the keys' presence only. */
export type TlshdSpec = Resolved<Pick<TlshdArgs, TlshdDefaults>> & {
  name: string;
  server?: TlshdEndSpec;
  client?: TlshdEndSpec;
};

/** The two ends, in the order tlshd.conf lists them. */
export const TLSHD_ENDS = ["client", "server"] as const;
export type TlshdEnd = (typeof TLSHD_ENDS)[number];

/** The plain args the resolver takes (certificates as text or UNKNOWN; keys only as present or not). */
export type PlainTlshdArgs = Omit<TlshdArgs, "connection" | "hostSetup" | "server" | "client"> & {
  server?: { certificate?: unknown; trustedCa?: unknown; privateKey?: unknown };
  client?: { certificate?: unknown; trustedCa?: unknown; privateKey?: unknown };
};

function endSpec(e: { certificate?: unknown; trustedCa?: unknown; privateKey?: unknown } | undefined): TlshdEndSpec | undefined {
  if (e === undefined || e === null) return undefined;
  const out: TlshdEndSpec = { hasKey: e.privateKey !== undefined && e.privateKey !== null };
  if (e.certificate !== undefined) out.certificate = e.certificate as string;
  if (e.trustedCa !== undefined) out.trustedCa = e.trustedCa as string;
  return out;
}

export function resolveTlshd(name: string, a: PlainTlshdArgs): TlshdSpec {
  const pick: Partial<Pick<TlshdArgs, TlshdDefaults>> = {};
  for (const k of Object.keys(DEFAULTS) as TlshdDefaults[]) (pick as Record<string, unknown>)[k] = a[k];
  const spec: TlshdSpec = { name, ...resolveDefaults(pick, DEFAULTS) };
  const server = endSpec(a.server);
  const client = endSpec(a.client);
  if (server) spec.server = server;
  if (client) spec.client = client;
  return spec;
}

/** The files of one end in `certDir`. */
export function tlshdFiles(s: Pick<TlshdSpec, "certDir">, end: TlshdEnd) {
  return {
    certificate: path.posix.join(s.certDir, `${end}.crt`),
    privateKey: path.posix.join(s.certDir, `${end}.key`),
    trustedCa: path.posix.join(s.certDir, `${end}-ca.crt`),
  };
}

/** Secret key of an end's private key in the kind's secrets. */
export const keySecret = (end: TlshdEnd) => `${end}.privateKey`;

/** A private key: PEM, multi-line, at most 16 KiB (an 8192-bit RSA key is ~6.4 KiB). */
export const TLS_KEY_RULES: SecretRules = { maxBytes: 16384, why: "a PEM private key of any usual type fits in 16 KiB", multiline: true };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END \1-----/g;
const PEM_MAX_BYTES = 65536;

/** The PEM block labels of a text, or undefined when it is not made of PEM blocks only. */
function pemLabels(v: string): string[] | undefined {
  const labels: string[] = [];
  const rest = v.replace(PEM_BLOCK, (_m, label: string) => {
    labels.push(label);
    return "";
  });
  return labels.length && rest.trim() === "" ? labels : undefined;
}

/**
 * A PEM certificate (or chain) field. Its value is shown in a refusal like any other, unless it
 * holds a private key (pasted into the wrong field): that never reaches a message.
 */
function checkCertificate(c: Checker, field: string, v: unknown, fix: string): void {
  if (v === undefined || isUnknown(v)) return;
  const shown = typeof v === "string" && v.includes("PRIVATE KEY") ? undefined : v;
  const add = (message: string) => c.problems.push(shown === undefined ? { field, message } : { field, value: shown, message });
  if (typeof v !== "string" || v.trim() === "") {
    add(`must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----); ${fix}`);
    return;
  }
  if (Buffer.byteLength(v, "utf8") > PEM_MAX_BYTES) {
    add(`is longer than ${PEM_MAX_BYTES} bytes, more than a certificate chain; give the PEM certificate(s) only`);
    return;
  }
  const labels = pemLabels(v);
  const key = labels?.find((l) => l.endsWith("PRIVATE KEY"));
  if (key) add(`holds a private key (${key}), not a certificate: give the key in the privateKey field as a pulumi.secret and the certificate here`);
  else if (!labels || labels.some((l) => l !== "CERTIFICATE")) {
    const first = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(v)?.[1];
    add(`is not a PEM certificate${first ? ` (it holds a ${JSON.stringify(first)} block)` : ""}: give the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE----- (several for a chain), e.g. 'openssl x509 -in cert.pem'`);
  }
}

/** A private key secret: shape only, never its value. */
function checkPrivateKey(c: Checker, field: string, v: unknown): void {
  if (v === undefined || isUnknown(v)) return;
  const before = c.problems.length;
  c.secret(field, v, TLS_KEY_RULES);
  if (c.problems.length > before || typeof v !== "string") return;
  const labels = pemLabels(v);
  if (labels && labels.length === 1 && labels[0] === "ENCRYPTED PRIVATE KEY") {
    c.problems.push({ field, message: "is an encrypted private key, and tlshd cannot ask for a passphrase; give it unencrypted (openssl pkey -in key.pem), kept safe as a pulumi.secret" });
  } else if (labels && labels.length === 1 && labels[0].endsWith("PRIVATE KEY")) {
    return;
  } else if (labels?.includes("CERTIFICATE")) {
    c.problems.push({ field, message: "holds a certificate, not a private key: give the certificate in the certificate field and its key here (a pulumi.secret)" });
  } else {
    c.problems.push({ field, message: "is not a PEM private key (expected one block from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----, or an RSA/EC key); e.g. 'openssl genpkey -algorithm ed25519'" });
  }
}

/** Every problem with a Tlshd spec; `secrets` (the private keys) when known. */
export function validateTlshd(s: TlshdSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("Tlshd");
  c.absPath("configPath", s.configPath, "file");
  c.absPath("certDir", s.certDir, "dir");
  if (typeof s.configPath === "string" && typeof s.certDir === "string" && !isUnknown(s.configPath)) {
    const own = TLSHD_ENDS.flatMap((e) => Object.values(tlshdFiles(s, e)));
    if (own.includes(path.posix.normalize(s.configPath))) c.add("configPath", s.configPath, `is one of the certificate or key files kvmshare writes in certDir (${s.certDir}); put the config elsewhere, e.g. /etc/tlshd.conf`);
  }
  c.int("debugLevel", s.debugLevel, 0, 3, "0 is quiet, 3 logs each handshake step");
  if (typeof s.manageService !== "boolean") c.add("manageService", s.manageService, "must be true or false");
  if (!s.server && !s.client) c.add("server|client", undefined, "set server (a host that exports with xprtsec), client (a guest that mounts with xprtsec), or both");
  const srv = s.server;
  if (srv) {
    if (srv.certificate === undefined) c.add("server.certificate", undefined, "is required: the server's PEM certificate, which NFS clients check against their trustedCa");
    checkCertificate(c, "server.certificate", srv.certificate, "the server's certificate");
    if (!srv.hasKey) c.add("server.privateKey", undefined, "is required (a pulumi.secret): the private key of server.certificate");
    checkCertificate(c, "server.trustedCa", srv.trustedCa, "the CA that signed the clients' certificates, or leave it unset for the system's trust store");
  }
  const cli = s.client;
  if (cli) {
    if (cli.trustedCa === undefined) c.add("client.trustedCa", undefined, "is required: the PEM certificate of the CA that signed the NFS servers' certificates");
    checkCertificate(c, "client.trustedCa", cli.trustedCa, "the CA that signed the servers' certificates");
    checkCertificate(c, "client.certificate", cli.certificate, "the client's certificate for mtls");
    if ((cli.certificate === undefined) !== !cli.hasKey) {
      c.add(cli.hasKey ? "client.certificate" : "client.privateKey", undefined, "client.certificate and client.privateKey go together (an mtls client presents both); set both, or neither for tls-only mounts");
    }
  }
  if (secrets !== undefined) {
    for (const end of TLSHD_ENDS) if (s[end]?.hasKey) checkPrivateKey(c, `${end}.privateKey`, secrets[keySecret(end)]);
  }
  return c.problems;
}
