/**
 * A key path handed to the real syncoid (Debian package `sanoid`): syncoid builds its ssh command
 * as a string (`$sshcmd = "ssh ... -i $args{'sshkey'}"`) and runs it through `open FH, "... |"`,
 * that is /bin/sh. So a `sshTarget.keyFile` with shell syntax runs a command as root on every
 * timer run, although kvmshare passes syncoid an argv. Scenario 1 proves that with kvmshare's own
 * argv (validation bypassed); scenario 2 shows preview refuses the same value, and every other
 * character outside the whitelist. No daemon is started: ssh to 127.0.0.1 port 1 fails at once.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { syncoidArgv } from "../../components/protection/syncoidReplication";
import { validateReplicationSpec, ZfsReplicationSpec } from "../../components/protection/zfsReplicationArgs";

jest.setTimeout(60_000);

const required = process.env.CI === "true";
const missing = spawnSync("sh", ["-c", "command -v syncoid"]).status !== 0 ? "syncoid is not installed (apt-get install sanoid)" : undefined;
if (missing) process.stderr.write(`\n# syncoid-keypath: ${missing}; ${required ? "FAILING (CI)" : "SKIPPING"}\n`);
const describeIf = missing && !required ? describe.skip : describe;

function spec(keyFile: string): ZfsReplicationSpec {
  return {
    name: "keypath",
    source: "kvmshare-no-such-pool/src",
    target: "backup/src",
    scheduler: "syncoid",
    intervalMinutes: 15,
    targetLocal: false,
    sshTarget: { host: "127.0.0.1", port: 1, keyFile },
  };
}

describeIf("syncoid --sshkey reaches a shell string", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-syncoid-key-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (keyFile: string) => {
    const argv = syncoidArgv(spec(keyFile));
    // The argv as the unit's ExecStart runs it: no shell of ours in between.
    return spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 30_000, cwd: dir });
  };

  it("a hostile key path runs its command through the real syncoid (what preview must stop)", () => {
    const marker = path.join(dir, "pwned");
    const hostile = `/nonexistent;touch ${marker};#`;
    run(hostile);
    expect(fs.existsSync(marker)).toBe(true);
    // A plain key path runs nothing but ssh (which fails to connect): the marker is not made.
    fs.rmSync(marker);
    run(path.join(dir, "id_ed25519"));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("preview refuses that key path, naming the field, the value and the fix", () => {
    const hostile = `/nonexistent;touch ${dir}/pwned;#`;
    const problems = validateReplicationSpec(spec(hostile));
    expect(problems).toEqual([
      { field: "sshTarget.keyFile", value: hostile, message: expect.stringMatching(/letters, digits, '\.', '_', '\/', '-' \(an external tool pastes it into a command line/) },
    ]);
    expect(validateReplicationSpec(spec("/root/.ssh/id_ed25519"))).toEqual([]);
  });

  it.each([
    ["$", "/root/.ssh/id$(reboot)"],
    ["backtick", "/root/.ssh/id`reboot`"],
    [";", "/root/.ssh/id;reboot"],
    ["space", "/root/.ssh/id -oProxyCommand=reboot"],
    ["|", "/root/.ssh/id|reboot"],
    ["&", "/root/.ssh/id&reboot"],
    ["quote", "/root/.ssh/id'x"],
    ["redirect", "/root/.ssh/id>/etc/shadow"],
    ["newline", "/root/.ssh/id\nreboot"],
  ])("refuses a key path with %s", (_what, keyFile) => {
    expect(validateReplicationSpec(spec(keyFile)).map((p) => p.field)).toEqual(["sshTarget.keyFile"]);
  });
});
