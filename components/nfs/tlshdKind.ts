/**
 * Kind: tlshd's config (tlshd.conf) and its certificate and key files. The config and the
 * certificates are plain files (state keeps them; a hand edit is drift by path); each private
 * key is written 0600 and only compared in memory against the declared secret (state keeps
 * `keys.<path>: { current, mode }`, never the key). tlshd reads all of them once, at start: a
 * change restarts it (`systemctl try-restart`: a stopped tlshd stays stopped unless the
 * component's `HostService` starts it).
 */
import * as crypto from "crypto";
import { Host } from "../../core/connection";
import { changedFiles, ConfigFiles, ConfigFileState, probeFile, probeFiles, writeFiles } from "../../core/configFile";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { hasCommand } from "../../core/hostChecks";
import { render } from "../../core/render";
import { rpcTlsProblems } from "../../core/rpcTls";
import { readDistro } from "../host";
import { keySecret, TLSHD_ENDS, TLSHD_FACTS, tlshdFiles, TlshdSpec, validateTlshd } from "./tlshdArgs";

/** One private key file as observed: does it hold the declared key (null: the key is not known here), and its mode. */
export type KeyFileState = { current: boolean | null; mode: string };

export type TlshdState = { files: Record<string, ConfigFileState | null>; keys: Record<string, KeyFileState | null> };

const KEY_MODE = "0600";

/** tlshd.conf for a spec (pure). */
export function renderTlshdConf(s: TlshdSpec): string {
  const sections = TLSHD_ENDS.filter((end) => s[end]).map((end) => {
    const e = s[end]!;
    const f = tlshdFiles(s, end);
    const keys: { key: string; path: string }[] = [];
    if (e.trustedCa !== undefined) keys.push({ key: "x509.truststore", path: f.trustedCa });
    if (e.certificate !== undefined) keys.push({ key: "x509.certificate", path: f.certificate });
    if (e.hasKey) keys.push({ key: "x509.private_key", path: f.privateKey });
    return { end, keys };
  });
  return render("tlshd.conf.hbs", { name: s.name, debugLevel: s.debugLevel, sections });
}

/** The plain files: tlshd.conf (0644) and the certificates (0644). */
export function renderTlshdFiles(s: TlshdSpec): ConfigFiles {
  const files: ConfigFiles = { [s.configPath]: { content: renderTlshdConf(s), mode: "0644" } };
  for (const end of TLSHD_ENDS) {
    const e = s[end];
    if (!e) continue;
    const f = tlshdFiles(s, end);
    if (e.certificate !== undefined) files[f.certificate] = { content: pemText(e.certificate), mode: "0644" };
    if (e.trustedCa !== undefined) files[f.trustedCa] = { content: pemText(e.trustedCa), mode: "0644" };
  }
  return files;
}

/** The key files and their secrets' names. */
function keyFiles(s: TlshdSpec): { path: string; secret: string }[] {
  return TLSHD_ENDS.filter((end) => s[end]?.hasKey).map((end) => ({ path: tlshdFiles(s, end).privateKey, secret: keySecret(end) }));
}

/** A PEM as written: ending in one newline. */
function pemText(v: string): string {
  return v.replace(/\s+$/, "") + "\n";
}

function same(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  return crypto.timingSafeEqual(crypto.createHash("sha256").update(a).digest(), crypto.createHash("sha256").update(b).digest());
}

/** What `tlshd` is missing on the host (none when its binary is there). */
async function tlshdMissing(host: Host): Promise<string | undefined> {
  if ((await hasCommand(host, TLSHD_FACTS.binary)) || (await host.run(["test", "-x", `/usr/sbin/${TLSHD_FACTS.binary}`], { check: false })).code === 0) return undefined;
  const d = await readDistro(host);
  const debian = d?.os.id === "debian" ? Number.parseInt(d.os.versionId, 10) : NaN;
  if (Number.isInteger(debian) && debian < TLSHD_FACTS.firstDebian) {
    return `tlshd is not installed on ${host.label}, and ${TLSHD_FACTS.package} is not packaged for ${d!.os.prettyName} (Debian ships it from ${TLSHD_FACTS.firstDebian}, trixie); upgrade the host to Debian ${TLSHD_FACTS.firstDebian}`;
  }
  return `tlshd is not installed on ${host.label}; install ${TLSHD_FACTS.package} (or set hostSetup: true)`;
}

export const kind: HostKind<TlshdSpec, TlshdState> = {
  name: "Tlshd",
  version: 1,
  validate: (s, secrets) => validateTlshd(s, secrets),

  async preflight(host, s) {
    const field = s.server ? "server" : "client";
    const missing = await tlshdMissing(host);
    const problems: Problem[] = missing ? [{ field, value: TLSHD_FACTS.binary, message: missing }] : [];
    problems.push(...(await rpcTlsProblems(host, { field, value: TLSHD_FACTS.binary, nfsUtils: false, fix: "or declare no Tlshd on it" })));
    return problems;
  },

  render(s) {
    const keys: Record<string, KeyFileState> = {};
    for (const k of keyFiles(s)) keys[k.path] = { current: true, mode: KEY_MODE };
    return { files: renderTlshdFiles(s), keys };
  },

  async probe(host, s, secrets) {
    const files = await probeFiles(host, Object.keys(renderTlshdFiles(s)));
    const keys: Record<string, KeyFileState | null> = {};
    for (const k of keyFiles(s)) {
      const f = await probeFile(host, k.path);
      const declared = secrets[k.secret];
      keys[k.path] = f ? { current: typeof declared === "string" ? same(f.content, pemText(declared)) : null, mode: f.mode } : null;
    }
    if (Object.values(files).every((f) => f === null) && Object.values(keys).every((k) => k === null)) return undefined;
    return { files, keys };
  },

  compare: (d, o) => [
    ...changedFiles(d.files as ConfigFiles, o.files).map((p) => `files.${p}`),
    ...Object.keys(d.keys).filter((p) => {
      const k = o.keys?.[p];
      return !k || k.current === false || k.mode !== KEY_MODE;
    }).map((p) => `keys.${p}`),
  ],

  async apply(host, { spec, desired, live, secrets, previous, log }) {
    await host.run(["mkdir", "-p", "-m", "0755", "--", spec.certDir]);
    const changed: string[] = [];
    // Keys first: the config that names a key file goes live after it.
    for (const k of keyFiles(spec)) {
      const now = live?.keys?.[k.path];
      if (now && now.current === true && now.mode === KEY_MODE) continue;
      await host.writeFileAtomic(k.path, pemText(secrets[k.secret]), { mode: KEY_MODE });
      changed.push(k.path);
    }
    const certs = { ...(desired.files as ConfigFiles) };
    const conf = certs[spec.configPath];
    delete certs[spec.configPath];
    changed.push(...(await writeFiles(host, certs, live?.files)));
    changed.push(...(await writeFiles(host, { [spec.configPath]: conf }, live?.files)));
    // Files of an end no longer declared (or of an old certDir) are removed.
    const before = previous?.spec ? [...Object.keys(renderTlshdFiles(previous.spec)), ...keyFiles(previous.spec).map((k) => k.path)] : [];
    const now = new Set([...Object.keys(desired.files), ...Object.keys(desired.keys)]);
    for (const p of before) if (!now.has(p) && (await host.removeFile(p))) changed.push(p);
    if (!changed.length) return;
    log(`tlshd: wrote ${changed.length} file(s) on ${host.label}: ${changed.join(", ")}`);
    // tlshd reads its config and files only at start.
    const r = await host.run(["systemctl", "try-restart", "--", TLSHD_FACTS.unit], { check: false });
    log(r.code === 0 ? `tlshd: restarted ${TLSHD_FACTS.unit} if it was running` : `tlshd: ${TLSHD_FACTS.unit} not restarted (${(r.stderr || r.stdout).trim().split("\n")[0]})`);
  },

  async remove(host, spec, _observed, log) {
    for (const p of [...Object.keys(renderTlshdFiles(spec)), ...keyFiles(spec).map((k) => k.path)]) {
      if (await host.removeFile(p)) log(`removed ${p} on ${host.label}`);
    }
  },

  outputs: (s) => ({ configPath: s.configPath, certDir: s.certDir }),
  id: (s) => `Tlshd:${s.configPath}`,
};
