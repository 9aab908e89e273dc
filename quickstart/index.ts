// The quick-start stack run by `pulumi up` (Pulumi.yaml main) and by `npm run sandbox`.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { quickstart } from "./stack";

const config = new pulumi.Config();
const out = quickstart({
  sandboxDir: path.resolve(config.get("sandboxDir") ?? ".sandbox"),
  withZfs: config.getBoolean("withZfs"),
  poolName: config.get("poolName"),
});
export const outputs = out;
