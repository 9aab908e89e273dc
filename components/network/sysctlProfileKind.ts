/**
 * Kind: a sysctl profile. Values are set with `sysctl -w` (inside the namespace when `netns` is
 * given), read back from /proc/sys, and only then persisted to `<dir>/<name>.conf`. A value the
 * kernel did not take is an error naming the key, the value wanted and the value it has, even
 * when `sysctl -w` exited 0 (it does so for `net.core.rmem_max` inside a namespace).
 */
import { Host } from "../../core/connection";
import { escapeControl, Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { render } from "../../core/render";
import { Checker } from "../../core/validate";
import {
  checkTarget,
  NetTarget,
  normSysctl,
  originalsPath,
  readOriginals,
  readSysctls,
  recordOriginals,
  runIn,
  shownValue,
  sysctlPathConfined,
  where,
  writeOriginals,
  netnsProblems,
} from "./netHost";

export interface SysctlSetting {
  /** Dotted key, e.g. `net.core.somaxconn`. */
  key: string;
  /** Value as `sysctl -w` takes it (`4096 131072 33554432`). */
  value: string;
  /** The user-facing field it came from (e.g. `sysctl.rmemMax`), for messages. */
  field?: string;
}

export interface SysctlProfileSpec extends NetTarget {
  /** File base name: the profile is written to `<dir>/<name>.conf`. */
  name: string;
  /** The sysctl.d directory. */
  dir: string;
  settings: SysctlSetting[];
}

export type SysctlProfileState = {
  /** The profile file's content (`null`: absent). */
  file: string | null;
  /** Live value of every key (`null`: no such key there). */
  values: Record<string, string | null>;
};

export const CONGESTION_KEY = "net.ipv4.tcp_congestion_control";
const AVAILABLE_KEY = "net.ipv4.tcp_available_congestion_control";
const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_/:@-]+)+$/;

/**
 * Why a key would not name a file under /proc/sys, or undefined when it does. A '/' inside a
 * level stands for a '.' (sysctl(8): `net.ipv4.conf.eth0/100.rp_filter`), so a level of only
 * '/'s would become '.' or '..' and climb out of /proc/sys: refused, as are empty levels.
 */
export function sysctlKeyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || !KEY_RE.test(key) || key.length > 256) {
    return "must be a dotted sysctl key like 'net.core.somaxconn' (letters, digits, '_', '-', ':', '@', and '/' standing for a '.' inside one level)";
  }
  const levels = key.split(".").map((l) => l.replace(/\//g, "."));
  if (levels.some((l) => l === "" || /^\.+$/.test(l))) {
    return "has a level that is empty or only '/' (a '/' stands for '.', so it would name '.' or '..' and a file outside /proc/sys)";
  }
  if (!sysctlPathConfined(key)) return "does not name a file under /proc/sys";
  return undefined;
}

export function profilePath(spec: Pick<SysctlProfileSpec, "dir" | "name">): string {
  return `${spec.dir.replace(/\/+$/, "")}/${spec.name}.conf`;
}

export function validateSysctlProfile(spec: SysctlProfileSpec, prefix = ""): Problem[] {
  const c = new Checker("SysctlProfile");
  c.required(`${prefix}name`, spec.name).name(`${prefix}name`, spec.name);
  c.required(`${prefix}dir`, spec.dir).absPath(`${prefix}dir`, spec.dir, "dir");
  checkTarget(c, prefix, spec);
  if (!Array.isArray(spec.settings)) {
    c.add(`${prefix}settings`, spec.settings, "must be a list of { key, value }");
    return c.problems;
  }
  const seen = new Set<string>();
  spec.settings.forEach((s, i) => {
    const field = s?.field ?? `${prefix}settings[${i}]`;
    const keyProblem = sysctlKeyProblem(s?.key);
    if (keyProblem) {
      c.add(field, s?.key, keyProblem);
      return;
    }
    if (seen.has(s.key)) c.add(field, s.key, "is set twice; keep one entry per key (a typed field and an extra key may name the same sysctl)");
    seen.add(s.key);
    if (typeof s.value !== "string" || s.value.trim() === "" || /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(s.value) || s.value.length > 4096 || /\\\s*$/.test(s.value)) {
      c.add(field, s.value, `value of ${s.key} must be a non-empty single-line string (no control characters, no trailing backslash, at most 4096 characters)`);
    }
  });
  return c.problems;
}

function notes(spec: SysctlProfileSpec): string[] {
  if (!spec.netns) return ["systemd-sysctl applies this file at boot."];
  return [
    `These values belong to network namespace '${spec.netns}'. systemd-sysctl must not load this file into the host's`,
    "namespace: keep it out of /etc/sysctl.d; the kvmshare boot unit re-applies it with 'ip netns exec ... sysctl -p'.",
  ];
}

export function renderProfile(spec: SysctlProfileSpec): string {
  return render("sysctl.conf.hbs", {
    name: spec.name,
    notes: notes(spec),
    settings: spec.settings.map((s) => ({ key: s.key, value: normSysctl(s.value) })),
  });
}

function label(s: SysctlSetting): string {
  return s.field ? `${s.key} (${s.field})` : s.key;
}

/** Make `cc` selectable: when the kernel does not list it, load `tcp_<cc>` (modules are global). */
async function ensureCongestionControl(host: Host, spec: SysctlProfileSpec, cc: string, log: (m: string) => void): Promise<void> {
  const before = (await readSysctls(host, spec.netns, [AVAILABLE_KEY]))[AVAILABLE_KEY] ?? "";
  if (before.split(" ").includes(cc)) return;
  const mod = await host.run(["modprobe", "--", `tcp_${cc}`], { check: false });
  const after = (await readSysctls(host, spec.netns, [AVAILABLE_KEY]))[AVAILABLE_KEY] ?? "";
  if (after.split(" ").includes(cc)) {
    log(`loaded kernel module tcp_${cc} on ${host.label}`);
    return;
  }
  const why = mod.code === 0 ? "loaded but did not register it" : `failed: ${mod.stderr.trim().split("\n").pop()}`;
  throw new Error(
    `sysctl.tcpCongestionControl: '${cc}' is not available on ${where(host, spec.netns)} ` +
      `(${AVAILABLE_KEY} = '${shownValue(after)}'); 'modprobe tcp_${cc}' ${why}. ` +
      `Use one of: ${shownValue(after).split(" ").join(", ")}, or install a kernel with tcp_${cc}.`,
  );
}

async function setValues(host: Host, netns: string | undefined, values: Record<string, string>): Promise<string> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (!args.length) return "";
  const r = await runIn(host, netns, ["sysctl", "-w", ...args], { check: false });
  return r.stderr;
}

function errorLineFor(stderr: string, key: string): string {
  const line = stderr.split("\n").find((l) => l.includes(`"${key}"`) || l.includes(key.replace(/\./g, "/")));
  return line ? `; sysctl said: ${escapeControl(line.trim()).slice(0, 300)}` : "";
}

export const kind: HostKind<SysctlProfileSpec, SysctlProfileState> = {
  name: "SysctlProfile",
  version: 1,
  validate: (spec) => validateSysctlProfile(spec),
  id: (spec) => `SysctlProfile:${spec.netns ?? "host"}:${profilePath(spec)}`,

  async preflight(host, spec) {
    const ns = await netnsProblems(host, spec.netns);
    if (ns.length) return ns;
    const c = new Checker("SysctlProfile");
    const keys = spec.settings.map((s) => s.key);
    const live = await readSysctls(host, spec.netns, [...keys, AVAILABLE_KEY]);
    for (const s of spec.settings) {
      if (live[s.key] === undefined) {
        c.add(s.field ?? s.key, s.key, `no such sysctl on ${where(host, spec.netns)} (check the spelling, or load the module that provides it)`);
      }
    }
    const cc = spec.settings.find((s) => s.key === CONGESTION_KEY);
    const avail = live[AVAILABLE_KEY] ?? "";
    if (cc && !avail.split(" ").includes(cc.value)) {
      const probe = await host.run(["modprobe", "-n", "-q", "--", `tcp_${cc.value}`], { check: false });
      if (probe.code !== 0) {
        c.add(cc.field ?? CONGESTION_KEY, cc.value, `is neither available on ${where(host, spec.netns)} (${shownValue(avail)}) nor loadable (no module tcp_${cc.value})`);
      }
    }
    return c.problems;
  },

  render: (spec) => ({
    file: renderProfile(spec),
    values: Object.fromEntries(spec.settings.map((s) => [s.key, normSysctl(s.value)])),
  }),

  async probe(host, spec) {
    const file = (await host.readFile(profilePath(spec))) ?? null;
    const live = await readSysctls(host, spec.netns, spec.settings.map((s) => s.key));
    return { file, values: Object.fromEntries(spec.settings.map((s) => [s.key, live[s.key] ?? null])) };
  },

  compare(desired, observed) {
    const out: string[] = [];
    if (desired.file !== observed.file) out.push("file");
    for (const [k, v] of Object.entries(desired.values)) if (observed.values[k] !== v) out.push(`values.${k}`);
    return out;
  },

  project: (spec, observed) => ({
    ...spec,
    settings: spec.settings.map((s) => ({ ...s, value: observed.values[s.key] ?? "(absent)" })),
  }),

  outputs: (spec, observed) => ({ path: profilePath(spec), values: observed?.values ?? null }),

  async apply(host, { spec, desired, previous, log }) {
    const at = where(host, spec.netns);
    const cc = spec.settings.find((s) => s.key === CONGESTION_KEY);
    if (cc) await ensureCongestionControl(host, spec, cc.value, log);

    const keys = spec.settings.map((s) => s.key);
    const current = await readSysctls(host, spec.netns, keys);
    const missing = spec.settings.filter((s) => current[s.key] === undefined);
    if (missing.length) {
      throw new Error(`sysctl: no such key${missing.length > 1 ? "s" : ""} on ${at}: ${missing.map(label).join(", ")}`);
    }
    const origFile = originalsPath(spec.stateDir, "sysctl", spec.netns, spec.name);
    const firstApply = (await host.readFile(origFile)) === undefined;
    const originals = await recordOriginals(host, origFile, current);

    // Keys this profile no longer sets go back to what they were before kvmshare touched them.
    if (previous?.spec) {
      const dropped = previous.spec.settings.map((s) => s.key).filter((k) => !keys.includes(k) && k in originals);
      if (dropped.length) {
        if (spec.restoreOnRemove) await setValues(host, spec.netns, Object.fromEntries(dropped.map((k) => [k, originals[k]])));
        for (const k of dropped) delete originals[k];
        await writeOriginals(host, origFile, originals);
        log(`no longer managing ${dropped.join(", ")} on ${at}`);
      }
      if (profilePath(previous.spec) !== profilePath(spec)) await host.removeFile(profilePath(previous.spec));
    }

    const wanted = desired.values as Record<string, string>;
    const changes = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
    const stderr = await setValues(host, spec.netns, changes);
    const after = await readSysctls(host, spec.netns, keys);
    const refused = spec.settings.filter((s) => after[s.key] !== wanted[s.key]);
    if (refused.length) {
      // Leave the host as it was: undo what did take, and do not persist a profile the kernel refused.
      const undo = Object.fromEntries(Object.keys(changes).filter((k) => current[k] !== undefined).map((k) => [k, current[k] as string]));
      await setValues(host, spec.netns, undo);
      if (firstApply) await host.removeFile(origFile);
      const hint = spec.netns
        ? ` Some keys (net.core.rmem_max, net.core.wmem_max, vm.*) are global, not per network namespace: ` +
          `set them in a NetworkTuning without netns (the host's namespace).`
        : "";
      throw new Error(
        `sysctl: the kernel on ${at} did not take ${refused.length} value${refused.length > 1 ? "s" : ""}:\n` +
          refused.map((s) => `  - ${label(s)}: wanted '${wanted[s.key]}', got '${shownValue(after[s.key])}'${errorLineFor(stderr, s.key)}`).join("\n") +
          (hint ? `\n${hint}` : ""),
      );
    }
    if (Object.keys(changes).length) log(`set ${Object.keys(changes).join(", ")} on ${at}`);

    const path = profilePath(spec);
    if ((await host.readFile(path)) !== desired.file) {
      await host.run(["mkdir", "-p", "--", spec.dir]);
      await host.writeFileAtomic(path, desired.file as string, { mode: "0644" });
      log(`wrote ${path} on ${host.label}`);
    }
  },

  async remove(host, spec, _observed, log) {
    if (await host.removeFile(profilePath(spec))) log(`removed ${profilePath(spec)} on ${host.label}`);
    const origFile = originalsPath(spec.stateDir, "sysctl", spec.netns, spec.name);
    const originals = await readOriginals<string>(host, origFile);
    if (spec.restoreOnRemove && Object.keys(originals).length) {
      await setValues(host, spec.netns, originals);
      log(`restored ${Object.keys(originals).join(", ")} on ${where(host, spec.netns)}`);
    }
    await host.removeFile(origFile);
  },
};
