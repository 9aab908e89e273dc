/** Pure rendering of the Samba files from resolved specs. */
import * as path from "path";
import { render } from "../../core/render";
import { SambaServerSpec } from "./sambaServerArgs";
import { HARDENING, SHARE_HARDENING } from "./smbConf";
import { SmbShareSpec } from "./smbShareArgs";

type Setting = { key: string; value: string };

/** The [global] settings, in file order. */
export function serverSettings(s: SambaServerSpec): Setting[] {
  const out: Setting[] = [
    { key: "server role", value: "standalone server" },
    { key: "workgroup", value: s.workgroup },
    { key: "server string", value: s.serverString },
    { key: "server min protocol", value: s.minProtocol },
    { key: "smb ports", value: s.ports.join(" ") },
  ];
  if (s.interfaces.length) out.push({ key: "interfaces", value: s.interfaces.join(" ") }, { key: "bind interfaces only", value: "yes" });
  if (s.hostsAllow.length && !s.hostsAllow.includes("*")) out.push({ key: "hosts allow", value: s.hostsAllow.join(" ") });
  out.push(...HARDENING.map(({ key, value }) => ({ key, value })));
  out.push({ key: "passdb backend", value: s.passdbPath ? `tdbsam:${s.passdbPath}` : "tdbsam" });
  if (s.stateDir) {
    const d = (x: string) => path.posix.join(s.stateDir as string, x);
    out.push(
      { key: "private dir", value: d("private") },
      { key: "lock directory", value: d("lock") },
      { key: "state directory", value: d("state") },
      { key: "cache directory", value: d("cache") },
      { key: "pid directory", value: d("pid") },
      { key: "ncalrpc dir", value: d("lock/ncalrpc") },
    );
  }
  if (s.logFile) out.push({ key: "log file", value: s.logFile }, { key: "logging", value: "file" });
  out.push(...Object.entries(s.extraParameters).map(([key, value]) => ({ key, value })));
  return out;
}

/** Directories a sandboxed `stateDir` needs. */
export function stateDirs(s: SambaServerSpec): string[] {
  return s.stateDir ? ["private", "lock", "state", "cache", "pid"].map((x) => path.posix.join(s.stateDir as string, x)) : [];
}

export function renderSambaServer(s: SambaServerSpec): string {
  return render("smb-global.hbs", { name: s.name, settings: serverSettings(s), sharesIndexPath: s.sharesIndexPath });
}

/** The share section's settings, in file order. */
export function shareSettings(s: SmbShareSpec): Setting[] {
  const users = [...s.validUsers, ...s.validGroups.map((g) => `@${g}`)].join(" ");
  const out: Setting[] = [
    { key: "path", value: s.path },
    { key: "valid users", value: users },
    { key: "read only", value: s.readOnly ? "yes" : "no" },
    { key: "create mask", value: s.createMask },
    { key: "directory mask", value: s.directoryMask },
  ];
  if (!s.hostsAllow.includes("*")) out.push({ key: "hosts allow", value: s.hostsAllow.join(" ") }, { key: "hosts deny", value: "ALL" });
  out.push({ key: "browseable", value: s.browseable ? "yes" : "no" });
  out.push(...SHARE_HARDENING);
  out.push(...Object.entries(s.extraParameters).map(([key, value]) => ({ key, value })));
  return out;
}

export function renderSmbShare(s: SmbShareSpec): string {
  return render("smb-share.hbs", { name: s.name, settings: shareSettings(s) });
}

export function renderSmbIndex(sharesDir: string, files: string[]): string {
  return render("smb-index.hbs", { sharesDir, files: [...files].sort() });
}
