import * as fs from "fs";
import { render, renderString, TemplateError, templatesDir } from "../../core/render";

describe("renderString", () => {
  it("does not HTML-escape config values", () => {
    expect(renderString("t", "opt = {{v}}", { v: `a&b<c>"d'` })).toBe(`opt = a&b<c>"d'`);
  });

  it("throws naming the template and the missing field", () => {
    expect(() => renderString("smb.conf.hbs", "path = {{share.path}}", { share: {} })).toThrow(TemplateError);
    expect(() => renderString("smb.conf.hbs", "path = {{share.path}}", { share: {} })).toThrow(
      /template smb.conf.hbs: missing field "path"/,
    );
  });

  it("throws for a missing top-level field instead of rendering empty", () => {
    expect(() => renderString("x.hbs", "a={{a}} b={{b}}", { a: 1 })).toThrow(/missing field "b"/);
  });

  it("loops over lists", () => {
    expect(renderString("t", "{{#each c}}{{host}}({{opts}}) {{/each}}", { c: [{ host: "a", opts: "rw" }, { host: "b", opts: "ro" }] })).toBe(
      "a(rw) b(ro) ",
    );
  });

  it("renders falsy but present values (0, false, empty string)", () => {
    expect(renderString("t", "{{a}}|{{b}}|{{c}}", { a: 0, b: false, c: "" })).toBe("0|false|");
  });
});

describe("render", () => {
  it("finds the package's templates directory", () => {
    expect(fs.existsSync(templatesDir())).toBe(true);
  });

  it("names a template that does not exist", () => {
    expect(() => render("no-such-template.hbs", {})).toThrow(/template no-such-template.hbs: no such template/);
  });
});
