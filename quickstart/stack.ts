/**
 * The quick-start stack: safe on any Linux box (every file under `sandboxDir`, loopback only).
 * Exported as a function so `npm run sandbox` and the tests run the very same program.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ManagedFile } from "../components/files";

export function quickstart(sandboxDir: string): Record<string, pulumi.Output<unknown>> {
  const motd = new ManagedFile("quickstart-readme", {
    file: {
      path: path.join(sandboxDir, "README.kvmshare"),
      content: "This directory is managed by the kvmshare quick start. Edit me and run `npm run sandbox -- preview --refresh`.\n",
      mode: "0644",
    },
  });
  return { readme: motd.observed };
}
