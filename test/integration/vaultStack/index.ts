// The stack of test/integration/vault-secrets.test.ts: the quick start (plain-directory share),
// and a Samba user and an OTP RADIUS server whose secrets are read from Vault's KV store.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { quickstart } from "../../../quickstart/stack";
import { OtpRadius } from "../../../components/kerberos";
import { SambaServer, SmbUser } from "../../../components/smb";
import { vaultSecret } from "../../../components/vault";
import { sandboxSambaServer } from "../../fixtures/smbd";

const config = new pulumi.Config();
const dir = config.require("dir");
const under = (p: string) => path.join(dir, p);

export const quick = quickstart({ sandboxDir: under("qs"), withZfs: false });

const server = new SambaServer("smb", sandboxSambaServer(under("smb"), config.requireNumber("smbPort")));
const games = new SmbUser("games", { server, password: vaultSecret("kvmshare/smb", "password") });

new OtpRadius("radius", {
  users: [{ name: "alice", password: vaultSecret("kvmshare/radius", "alicePassword"), totpSecret: config.requireSecret("aliceTotp") }],
  radiusSecret: vaultSecret("kvmshare/radius", "secret"),
  port: config.requireNumber("radiusPort"),
  configDir: under("radius"),
  runDir: under("run"),
  unitPath: "",
  restartCommands: [["true"]],
});

export const smbUser = games.observed;
