/** core/connection over a real sshd on loopback (own config, own keys, killed by PID). */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandError, SshConnectionSpec, SshHost, withHost } from "../../core/connection";
import { Sshd, startSshd } from "../fixtures/sshd";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(PROGRAMS.sshd);

describe("SSH host (sshd on 127.0.0.1)", () => {
  let dir: string;
  let sshd: Sshd;
  let spec: SshConnectionSpec;

  beforeAll(async () => {
    sshd = await startSshd(); // its own temp dir, removed by stop()
    spec = sshd.spec;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-ssh-"));
  });

  afterAll(async () => {
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs argv remotely with every value quoted", async () => {
    const out = await withHost(spec, (h) => h.run(["printf", "%s|", "a b", "$(id)", "it's"]));
    expect(out.stdout).toBe("a b|$(id)|it's|");
  });

  it("feeds stdin and returns exit codes", async () => {
    await withHost(spec, async (h) => {
      expect((await h.run(["cat"], { stdin: "over ssh\n" })).stdout).toBe("over ssh\n");
      expect((await h.run(["sh", "-c", "exit 4"], { check: false })).code).toBe(4);
      await expect(h.run(["sh", "-c", "echo nope >&2; exit 5"])).rejects.toThrow(CommandError);
    });
  });

  it("writes atomically with mode, reads back, removes", async () => {
    const f = path.join(dir, "remote file.conf");
    await withHost(spec, async (h) => {
      await h.writeFileAtomic(f, "x = 1\n", { mode: "0600" });
      expect(await h.readFile(f)).toBe("x = 1\n");
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      expect(await h.removeFile(f)).toBe(true);
      expect(await h.readFile(f)).toBeUndefined();
    });
  });

  it("passes environment variables without a shell injection", async () => {
    const out = await withHost(spec, (h) => h.run(["sh", "-c", 'printf %s "$KS_V"'], { env: { KS_V: "$(id); x" } }));
    expect(out.stdout).toBe("$(id); x");
  });

  it("refuses a host whose key does not match the known fingerprint", async () => {
    await expect(SshHost.connect({ ...spec, hostKeySha256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })).rejects.toThrow(/ssh root@127.0.0.1/);
  });

  it("refuses a wrong client key", async () => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "other_key")]);
    await expect(SshHost.connect({ ...spec, privateKey: fs.readFileSync(path.join(dir, "other_key"), "utf8") })).rejects.toThrow(
      /authentication/i,
    );
  });

  it("rejects (and does not crash) when the peer closes before the SSH handshake", async () => {
    const net = await import("net");
    const server = net.createServer((sock) => sock.destroy()).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(SshHost.connect({ ...spec, port, readyTimeoutMs: 5000 })).rejects.toThrow(/ssh root@127.0.0.1/);
    } finally {
      server.close();
    }
  });
});
