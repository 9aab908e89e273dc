/**
 * Running `kadmin.local` on a KDC host (and `kadmin` against a remote admin server): commands
 * reach its parser on stdin, every word quoted (`kadminLine`), passwords answer its prompts on
 * stdin too, never in argv. Errors name the command, never a secret.
 */
import { CommandError, Host } from "../../core/connection";
import { kadminLine, krb5Env } from "./krbNames";

/** Where MIT's tools find their configuration on a KDC host. */
export interface KdcPaths {
  realm: string;
  krb5ConfPath: string;
  kdcConfPath: string;
}

/**
 * Run one kadmin.local command (`words`, quoted here); `answers` are lines for its prompts
 * (passwords), kept out of messages. Returns stdout+stderr; throws when kadmin printed an error.
 */
export async function kadminLocal(host: Host, p: KdcPaths, words: string[], answers: string[] = [], okErrors: RegExp[] = []): Promise<string> {
  const r = await host.run(["kadmin.local", "-r", p.realm], {
    stdin: `${kadminLine(words)}\n${answers.map((a) => `${a}\n`).join("")}`,
    env: krb5Env(p.krb5ConfPath, p.kdcConfPath),
    check: false,
    secrets: answers,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const failed = r.code !== 0 || /\b(while|error|unable|cannot|failed)\b/i.test(r.stderr.replace(/No policy specified[^\n]*/g, "").replace(/Authenticating as principal[^\n]*/g, ""));
  if (failed && !okErrors.some((e) => e.test(out))) {
    throw new CommandError(["kadmin.local", "-r", p.realm, `(stdin: ${words[0]} ${words.slice(1).join(" ")})`], r.code || 1, r.stderr, host.label, answers);
  }
  return out;
}

/** Whether a principal exists (`getprinc`), and its attributes line and string attributes. */
export async function getPrincipal(host: Host, p: KdcPaths, name: string): Promise<{ attributes: string; otp: string | null; kvno: number } | undefined> {
  const out = await kadminLocal(host, p, ["getprinc", name], [], [/Principal does not exist/]);
  if (/Principal does not exist/.test(out) || !/^Principal: /m.test(out)) return undefined;
  const strings = await kadminLocal(host, p, ["get_strings", name], [], [/./]);
  const otp = /^otp: (.*)$/m.exec(strings)?.[1] ?? null;
  const kvno = Number(/Key: vno (\d+)/.exec(out)?.[1] ?? 0);
  return { attributes: /^Attributes:(.*)$/m.exec(out)?.[1].trim() ?? "", otp, kvno };
}
