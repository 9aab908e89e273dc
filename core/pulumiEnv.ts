/**
 * The environment the real Pulumi CLI needs on a machine whose only network is the package
 * registries: no update check, no plugin download, a file backend and the passphrase secrets
 * provider. Used by the quick start (`npm run sandbox`) and the real-engine tests.
 */
export interface OfflinePulumiOptions {
  /** Directory of the file backend (`file://<dir>`). */
  backendDir: string;
  /** PULUMI_HOME (plugins, workspace settings). @default the CLI's own (~/.pulumi) */
  home?: string;
  /** Passphrase of the stack's secrets provider. @default $PULUMI_CONFIG_PASSPHRASE, else "kvmshare" */
  passphrase?: string;
}

/** Environment variables for the CLI (merge them over `process.env`). */
export function offlinePulumiEnv(o: OfflinePulumiOptions): Record<string, string> {
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${o.backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: o.passphrase ?? process.env.PULUMI_CONFIG_PASSPHRASE ?? "kvmshare",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // Without it the engine tries to download the plugin of every package in node_modules that
    // declares one (and fails, slowly, offline).
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // TypeScript programs are run by ts-node; type checking is the job of `tsc`, not of every run.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
  };
  if (o.home) env.PULUMI_HOME = o.home;
  return env;
}
