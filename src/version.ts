import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Hearth's version from its package.json, found by walking up from this file, so that it works both
 * from the sources (tsx) and from the bundle in dist/.
 */
export const HEARTH_VERSION: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "hearth") return pkg.version ?? "unknown";
    }
    dir = dirname(dir);
  }
  return "unknown";
})();
