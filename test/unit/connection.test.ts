import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandError, connect, LocalHost, sshFingerprint, SshHost, withHost } from "../../core/connection";

describe("LocalHost.run", () => {
  const host = new LocalHost();

  it("runs argv without a shell: metacharacters arrive literally", async () => {
    const r = await host.run(["printf", "%s", "$(id) `id` ; | &"]);
    expect(r.stdout).toBe("$(id) `id` ; | &");
    expect(r.code).toBe(0);
  });

  it("feeds stdin", async () => {
    expect((await host.run(["cat"], { stdin: "from stdin\n" })).stdout).toBe("from stdin\n");
  });

  it("passes extra environment variables", async () => {
    expect((await host.run(["sh", "-c", 'printf %s "$KS_X"'], { env: { KS_X: "v" } })).stdout).toBe("v");
  });

  it("raises CommandError with the command, exit code and stderr tail", async () => {
    await expect(host.run(["sh", "-c", "echo boom >&2; exit 3", "x y"])).rejects.toThrow(CommandError);
    try {
      await host.run(["sh", "-c", "echo boom >&2; exit 3", "x y"]);
    } catch (e) {
      const err = e as CommandError;
      expect(err.code).toBe(3);
      expect(err.message).toContain("exit 3");
      expect(err.message).toContain("sh -c 'echo boom >&2; exit 3' 'x y'");
      expect(err.message).toContain("boom");
    }
  });

  it("returns the exit code instead of throwing when check is false", async () => {
    expect((await host.run(["sh", "-c", "exit 7"], { check: false })).code).toBe(7);
  });

  it("kills a command at its timeout", async () => {
    const t0 = Date.now();
    await expect(host.run(["sleep", "10"], { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("reports a missing program clearly", async () => {
    await expect(host.run(["kvmshare-no-such-program"])).rejects.toThrow(/ENOENT/);
  });

  it("never shows a secret in an error, even when the command echoes it", async () => {
    await expect(host.run(["sh", "-c", "echo hunter2 >&2; exit 1"], { secrets: ["hunter2"] })).rejects.toThrow(/\[secret\]/);
    await expect(host.run(["sh", "-c", "echo hunter2 >&2; exit 1"], { secrets: ["hunter2"] })).rejects.not.toThrow(/hunter2/);
  });
});

describe("LocalHost files", () => {
  let dir: string;
  const host = new LocalHost();
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-conn-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes atomically with the requested mode and leaves no temp file", async () => {
    const f = path.join(dir, "a b'c.conf");
    await host.writeFileAtomic(f, "secret-ish\n", { mode: "0600" });
    expect(fs.readFileSync(f, "utf8")).toBe("secret-ish\n");
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["a b'c.conf"]);
  });

  it("replaces an existing file in one step (same inode never half-written)", async () => {
    const f = path.join(dir, "x");
    fs.writeFileSync(f, "old");
    const before = fs.statSync(f).ino;
    await host.writeFileAtomic(f, "new");
    expect(fs.readFileSync(f, "utf8")).toBe("new");
    expect(fs.statSync(f).ino).not.toBe(before);
  });

  it("reads a file, and undefined for a missing one", async () => {
    fs.writeFileSync(path.join(dir, "y"), "content");
    expect(await host.readFile(path.join(dir, "y"))).toBe("content");
    expect(await host.readFile(path.join(dir, "missing"))).toBeUndefined();
  });

  it("reads an empty file as empty, not as missing", async () => {
    fs.writeFileSync(path.join(dir, "empty"), "");
    expect(await host.readFile(path.join(dir, "empty"))).toBe("");
  });

  it("removes a file and says whether it existed", async () => {
    fs.writeFileSync(path.join(dir, "z"), "");
    expect(await host.removeFile(path.join(dir, "z"))).toBe(true);
    expect(await host.removeFile(path.join(dir, "z"))).toBe(false);
  });

  it("fails clearly when the directory does not exist, leaving nothing behind", async () => {
    await expect(host.writeFileAtomic(path.join(dir, "nope", "f"), "x")).rejects.toThrow(CommandError);
  });
});

describe("connect", () => {
  it("defaults to the local host", async () => {
    expect((await connect(undefined)).label).toBe("local");
    expect(await withHost({ kind: "local" }, async (h) => h.label)).toBe("local");
  });

  it("refuses an SSH host without a known host key", async () => {
    await expect(SshHost.connect({ kind: "ssh", host: "127.0.0.1", port: 1 })).rejects.toThrow(/hostKeySha256: required/);
  });

  it("refuses an unknown connection kind", async () => {
    await expect(connect({ kind: "telnet" } as never)).rejects.toThrow(/must be 'local' or 'ssh'/);
  });

  it("computes fingerprints as ssh-keygen -l prints them", () => {
    expect(sshFingerprint(Buffer.from("abc"))).toBe("SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
  });
});
