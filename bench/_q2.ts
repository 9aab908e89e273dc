import * as fs from "fs";
import { execFileSync, spawnSync } from "child_process";
import { startNetnsSshd } from "./netnsSshd";
import { copy } from "../transfer/engine";
(async () => {
  const sshd = await startNetnsSshd();
  const src = "/var/tmp/i17-src.bin";
  const conn = { kind: "ssh" as const, host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 };
  const ssh = ["ssh", "-i", sshd.identityFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-c", "aes128-gcm@openssh.com", `${sshd.user}@${sshd.host}`];
  try {
    let t0 = Date.now();
    spawnSync("sh", ["-c", `cat ${src} | ${ssh.join(" ")} dd of=/var/tmp/i17-dst.bin bs=4M iflag=fullblock conv=notrunc status=none`], { stdio: "inherit" });
    console.log("cat|ssh dd", (1024 / ((Date.now() - t0) / 1000)).toFixed(0));
    for (const verify of [false, true]) {
      t0 = Date.now();
      const r = await copy(src, { kind: "ssh", connection: conn, path: "/var/tmp/i17-dst.bin", transport: "openssh" }, { streams: 2, verify });
      console.log("openssh verify", verify, r.mibps.toFixed(0));
    }
    t0 = Date.now();
    execFileSync("scp", [...ssh.slice(1, -1), src, `${sshd.user}@${sshd.host}:/var/tmp/i17-dst.bin`]);
    console.log("scp", (1024 / ((Date.now() - t0) / 1000)).toFixed(0));
  } finally { await sshd.stop(); fs.rmSync("/var/tmp/i17-dst.bin", { force: true }); }
})();
