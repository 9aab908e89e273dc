/**
 * pipeCommands (the send -> receive stream) with plain commands: a direct kernel pipe between
 * two local processes, a counted relay through Node, and failures on either side reported with
 * that side's command, exit code and stderr.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost, SshConnectionSpec, SshHost } from "../../core/connection";
import { PipeError, pipeCommands } from "../../components/protection/zfsStream";
import { NetnsSshd, startNetnsSshd } from "../fixtures/sshd";

describe("streaming one command into another", () => {
  const host = new LocalHost();
  let dir: string;
  let src: string;
  let sum: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-stream-"));
    src = path.join(dir, "src.bin");
    const data = crypto.randomBytes(9 * 1024 * 1024 + 17);
    fs.writeFileSync(src, data);
    sum = crypto.createHash("sha256").update(data).digest("hex");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

  it("local to local goes through a direct pipe and arrives intact", async () => {
    const out = path.join(dir, "direct.bin");
    const r = await pipeCommands(host, ["cat", src], host, ["sh", "-c", 'cat > "$1"', "sh", out]);
    expect(r.via).toBe("direct");
    expect(r.bytes).toBeUndefined();
    expect(sha(out)).toBe(sum);
  });

  it("a counted relay reports the exact bytes and arrives intact", async () => {
    const out = path.join(dir, "relay.bin");
    let last = 0;
    const r = await pipeCommands(host, ["cat", src], host, ["sh", "-c", 'cat > "$1"', "sh", out], { onProgress: (b) => (last = b) });
    expect(r.via).toBe("relay");
    expect(r.bytes).toBe(9 * 1024 * 1024 + 17);
    expect(last).toBe(r.bytes);
    expect(r.mibPerSec).toBeGreaterThan(0);
    expect(sha(out)).toBe(sum);
  });

  it.each([["direct", {}], ["relay", { countBytes: true }]] as const)("%s: a failing receiver is reported with its stderr and the sender is stopped", async (_, opts) => {
    const err = await pipeCommands(host, ["cat", "/dev/zero"], host, ["sh", "-c", "head -c 1000 >/dev/null; echo 'cannot receive: refused' >&2; exit 3"], opts).catch((e) => e);
    expect(err).toBeInstanceOf(PipeError);
    expect(err.targetCode).toBe(3);
    expect(err.message).toMatch(/pipe failed: sh -c .* on local \(exit 3\): cannot receive: refused/);
  });

  it.each([["direct", {}], ["relay", { countBytes: true }]] as const)("%s: a failing sender is reported with its stderr", async (_, opts) => {
    const err = await pipeCommands(host, ["cat", path.join(dir, "missing")], host, ["sh", "-c", "cat >/dev/null"], opts).catch((e) => e);
    expect(err).toBeInstanceOf(PipeError);
    expect(err.sourceCode).toBe(1);
    expect(err.message).toMatch(/cat .*missing on local \(exit 1\): cat: .*No such file or directory/);
  });

  describe("to an SSH host (sshd in a test network namespace)", () => {
    let sshd: NetnsSshd;
    let spec: SshConnectionSpec;
    let ssh: SshHost;
    beforeAll(async () => {
      sshd = await startNetnsSshd();
      spec = { kind: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 };
      ssh = await SshHost.connect(spec);
    }, 30_000);
    afterAll(async () => {
      await ssh?.close();
      await sshd?.stop();
    });

    it.each([["direct pipe into OpenSSH", {}], ["relay into OpenSSH", { countBytes: true }], ["ssh2 channel", undefined]] as const)(
      "%s arrives intact",
      async (way, extra) => {
        const out = path.join(dir, `ssh-${way.replace(/\W/g, "")}.bin`);
        const opts = extra === undefined ? {} : { ...extra, openssh: { target: spec } };
        const r = await pipeCommands(host, ["cat", src], ssh, ["sh", "-c", 'cat > "$1"', "sh", out], opts);
        expect(r.via).toBe(extra === undefined || "countBytes" in extra ? "relay" : "direct");
        expect(sha(out)).toBe(sum);
      },
      30_000,
    );

    it("OpenSSH refuses a host whose key does not match the pinned fingerprint; the receiver's failure names the host", async () => {
      const wrong = { ...spec, hostKeySha256: "SHA256:" + "A".repeat(43) };
      const err = await pipeCommands(host, ["cat", src], ssh, ["sh", "-c", "cat >/dev/null"], { openssh: { target: wrong } }).catch((e) => e);
      expect(String(err.message)).toMatch(/no host key with fingerprint SHA256:A{43}/);
      const fail = await pipeCommands(host, ["cat", src], ssh, ["sh", "-c", "head -c 10 >/dev/null; echo refused >&2; exit 4"], { openssh: { target: spec } }).catch((e) => e);
      expect(fail).toBeInstanceOf(PipeError);
      expect(fail.targetCode).toBe(4);
      expect(fail.message).toMatch(new RegExp(`sh -c .* on ${sshd.user}@${sshd.host.replace(/\./g, "\\.")}:22 \\(exit 4\\): refused`));
    }, 30_000);
  });
});
