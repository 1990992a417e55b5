import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { builtinModules } from "../../src/modules/index.ts";

/** The spec identifiers in the README's "Supported specifications" table. */
function readmeSpecs(): Set<string> {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split("## Supported specifications")[1]?.split("\n## ")[0] ?? "";
  const ids = new Set<string>();
  for (const line of section.split("\n")) {
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/(XEP-\d{4}|RFC \d+)/g)) ids.add(m[1] as string);
  }
  return ids;
}

describe("documentation of supported specifications", () => {
  it("lists every spec a built-in module declares in the README", () => {
    const listed = readmeSpecs();
    assert.ok(listed.size > 20, "the README table was found");
    const missing: string[] = [];
    for (const mod of builtinModules) {
      for (const ref of mod.specs ?? []) {
        if (!listed.has(ref.spec)) missing.push(`${ref.spec} (module ${mod.name})`);
      }
    }
    assert.deepEqual(missing, [], "specs declared by modules but missing from README.md");
  });
});
