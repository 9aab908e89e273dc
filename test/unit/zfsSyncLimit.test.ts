/**
 * test/setupEnv.js puts a time limit on the synchronous zfs/zpool calls tests make: a wedged
 * zfs-fuse must fail a test, not block Jest's event loop (and with it the lane) for good.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SETUP = path.join(__dirname, "../setupEnv.js");

function run(tool: string, limitMs: number): { out: string; ms: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-zfslimit-"));
  try {
    fs.writeFileSync(path.join(dir, tool), "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    const script = `require(${JSON.stringify(SETUP)}); const t = Date.now();
      try { require("child_process").execFileSync(${JSON.stringify(tool)}, ["list"], { encoding: "utf8" }); console.log("returned"); }
      catch (e) { console.log(e.signal + " " + (Date.now() - t)); }`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000, env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, KVMSHARE_ZFS_SYNC_LIMIT_MS: String(limitMs) } });
    const [signal, ms] = r.stdout.trim().split(" ");
    return { out: signal, ms: Number(ms) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test.each(["zfs", "zpool"])("a hanging synchronous %s is killed at the limit", (tool) => {
  const r = run(tool, 800);
  expect(r.out).toBe("SIGKILL");
  expect(r.ms).toBeGreaterThanOrEqual(700);
  expect(r.ms).toBeLessThan(10_000);
});

test("other programs keep their own behaviour (no limit added)", () => {
  const script = `require(${JSON.stringify(SETUP)}); console.log(require("child_process").execFileSync("sh", ["-c", "sleep 1; echo done"], { encoding: "utf8" }).trim());`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000, env: { ...process.env, KVMSHARE_ZFS_SYNC_LIMIT_MS: "100" } });
  expect(r.stdout.trim()).toBe("done");
});
