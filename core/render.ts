/**
 * Config files are rendered from `templates/<name>.hbs` with Handlebars compiled with
 * `noEscape` (config files are not HTML) and `strict` (a missing field throws instead of
 * rendering empty). Templates only substitute and loop; logic lives in the TypeScript that
 * builds the view-model.
 */
import * as fs from "fs";
import * as path from "path";
import Handlebars from "handlebars";

const hbs = Handlebars.create();
const cache = new Map<string, HandlebarsTemplateDelegate>();

/** The `templates/` directory of this package (works from sources and from `dist/`). */
export function templatesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, "templates");
    if (fs.existsSync(candidate) && fs.statSync(candidate).isDirectory()) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`kvmshare: templates/ directory not found above ${__dirname}`);
}

/** Thrown when a template refers to a field the view-model does not have. */
export class TemplateError extends Error {
  constructor(public readonly template: string, detail: string) {
    super(`template ${template}: ${detail}`);
    this.name = "TemplateError";
  }
}

function compile(name: string, source: string): HandlebarsTemplateDelegate {
  return hbs.compile(source, { noEscape: true, strict: true });
}

function run(name: string, tpl: HandlebarsTemplateDelegate, view: object): string {
  try {
    return tpl(view);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /"([^"]+)" not defined in .*? - (\d+:\d+)/.exec(msg);
    throw new TemplateError(name, m ? `missing field "${m[1]}" at ${m[2]}` : msg);
  }
}

/** Render a template source string (tests, and templates not on disk). */
export function renderString(name: string, source: string, view: object): string {
  return run(name, compile(name, source), view);
}

/** Render `templates/<name>` (e.g. `"exports.hbs"`) with a view-model. */
export function render(name: string, view: object): string {
  let tpl = cache.get(name);
  if (!tpl) {
    const file = path.join(templatesDir(), name);
    if (!fs.existsSync(file)) throw new TemplateError(name, `no such template in ${templatesDir()}`);
    // Compiled once per template (Handlebars compiles on first use and keeps the result).
    const compiled = compile(name, fs.readFileSync(file, "utf8"));
    tpl = (view: object) => run(name, compiled, view);
    cache.set(name, tpl);
  }
  return tpl(view);
}
