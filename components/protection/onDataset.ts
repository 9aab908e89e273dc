/** What the protection components share about the dataset they protect and the host of its copy. */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import type { ZfsDataset } from "../storage";

/**
 * Where a protection component's child runs and what it waits for, given its dataset (a
 * `ZfsDataset` component or a name): `connection` when given, else the dataset component's, and a
 * dependency on the dataset component.
 */
export function onDataset(dataset: ZfsDataset | string, connection: pulumi.Input<ConnectionSpec> | undefined) {
  const ds = typeof dataset === "string" ? undefined : dataset;
  return { connection: connection ?? ds?.connection, childOpts: { dependsOn: ds ? [ds.dataset] : [] } };
}

/** The target host's connection as the child's secret input (it may hold a key); none when it is not given. */
export function targetSecrets(targetConnection: pulumi.Input<ConnectionSpec> | undefined) {
  return targetConnection !== undefined ? { targetConnection: pulumi.output(targetConnection).apply((c) => JSON.stringify(c)) } : undefined;
}
