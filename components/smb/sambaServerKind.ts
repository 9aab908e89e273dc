/**
 * Kind: Samba's main config, with kvmshare's hardened [global] section and one `include` of the
 * shares index. Checked by `testparm -s` before it replaces the live file; smbd reloaded only on
 * change. A config that was there before (not written by kvmshare) is kept as
 * `<configPath>.kvmshare-orig` and put back on destroy.
 */
import { HostKind } from "../../core/hostKind";
import { configFileKind } from "../../core/configFile";
import { commandProblems } from "../../core/hostChecks";
import { syncShareIndex, testparm } from "./smbChecks";
import { renderSambaServer, stateDirs } from "./smbRender";
import { SambaConfigState, SambaServerSpec, validateSambaServer } from "./sambaServerArgs";

const MARK = "# Managed by kvmshare";

export const kind: HostKind<SambaServerSpec, SambaConfigState> = {
  name: "SambaServer",
  version: 1,
  validate: (spec) => validateSambaServer(spec),
  async preflight(host, s) {
    return s.check ? commandProblems(host, "testparm", "samba (or samba-common-bin)") : [];
  },
  ...configFileKind(renderSambaServer, (s) => s.configPath),
  async apply(host, { spec, desired, live, log }) {
    await host.run(["mkdir", "-p", "--", spec.sharesDir, ...stateDirs(spec)]);
    if (spec.stateDir) await host.run(["chmod", "0700", "--", `${spec.stateDir}/private`]);
    // The index must exist for the include (and testparm) even before the first share.
    await syncShareIndex(host, spec.sharesDir, spec.sharesIndexPath);
    const rewrite = !live || live.content !== desired.content;
    if (rewrite && spec.check) await testparm(host, spec.configPath, desired.content);
    if (live && !live.content.startsWith(MARK)) {
      const backup = `${spec.configPath}.kvmshare-orig`;
      if ((await host.readFile(backup)) === undefined) {
        await host.writeFileAtomic(backup, live.content, { mode: live.mode });
        log(`kept the previous ${spec.configPath} as ${backup}`);
      }
    }
    if (rewrite || live.mode !== desired.mode) await host.writeFileAtomic(spec.configPath, desired.content, { mode: desired.mode });
    if (rewrite) {
      log(`wrote ${spec.configPath} on ${host.label}`);
      await host.run(spec.reloadCommand);
    }
  },
  async remove(host, spec, _observed, log) {
    const backup = `${spec.configPath}.kvmshare-orig`;
    const orig = await host.readFile(backup);
    if (orig !== undefined) {
      await host.run(["mv", "-f", "--", backup, spec.configPath]);
      log(`restored ${spec.configPath} from ${backup}`);
    } else if (await host.removeFile(spec.configPath)) {
      log(`removed ${spec.configPath} on ${host.label}`);
    }
    const r = await host.run(spec.reloadCommand, { check: false });
    if (r.code !== 0) log(`reload after removing the config failed (exit ${r.code}); is smbd running?`);
  },
  outputs: (s) => ({ configPath: s.configPath }),
  id: (s) => `SambaServer:${s.configPath}`,
};
