// Bundles Hearth's TypeScript sources into dist/hearth.mjs for `npm start`: plain Node runs it without
// the tsx loader, which saves about 40 MB of resident memory. Dependencies stay in node_modules.
import { build } from "esbuild";

const started = Date.now();
await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/hearth.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
if (process.argv.includes("--verbose")) console.log(`built dist/hearth.mjs in ${Date.now() - started} ms`);
