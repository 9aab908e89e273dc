/**
 * ManagedFile's arguments, declared once (`ManagedFileArgs` and the file it describes,
 * `ManagedFileSpec`, which is also the kind's spec), its defaults, and its validation (pure).
 */
import * as pulumi from "@pulumi/pulumi";
import { Defaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";

/** One file whose content kvmshare owns (the ManagedFile kind's spec). */
export interface ManagedFileSpec {
  /** Absolute path of the file on the host. @fieldKind path file */
  path: string;
  /** Full content. @fieldKind free */
  content: string;
  /** File mode, octal. @default "0644" @fieldKind free */
  mode?: string;
  /** Owner of the file. @default unset: the file is written as (and owned by) the connecting user @fieldKind free */
  owner?: string;
  /** Group of the file. @default unset: the connecting user's group @fieldKind free */
  group?: string;
  /** argv that must exit 0 for the candidate file; the token `{}` is replaced by its path. @default unset: no check @fieldKind free */
  checkCommand?: string[];
  /** argv run after the content changed (e.g. a reload). @default unset: nothing is run @fieldKind free argv */
  reloadCommand?: string[];
  /** argv run after the file was removed. @default unset: nothing is run @fieldKind free */
  removeCommand?: string[];
}

/** A managed file on a host. */
export interface ManagedFileArgs {
  /** Where the file lives. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Absolute path, content, mode, owner, optional check/reload commands. */
  file: pulumi.Input<ManagedFileSpec>;
}

/** ManagedFile's defaults (the `@default`s above). */
export const MANAGED_FILE_DEFAULTS: Defaults<ManagedFileSpec, "owner" | "group" | "checkCommand" | "reloadCommand" | "removeCommand"> = {
  mode: "0644",
};

/** Every problem with a managed file's spec (pure). */
export function validateManagedFile(spec: ManagedFileSpec, prefix = ""): Problem[] {
  const c = new Checker("ManagedFile");
  c.required(`${prefix}path`, spec.path).absPath(`${prefix}path`, spec.path);
  if (typeof spec.content !== "string") c.add(`${prefix}content`, spec.content, "must be a string");
  c.mode(`${prefix}mode`, spec.mode);
  for (const f of ["checkCommand", "reloadCommand", "removeCommand"] as const) {
    c.argv(`${prefix}${f}`, spec[f], "['exportfs', '-ra']");
  }
  return c.problems;
}
