/**
 * Headless Chromium for end-to-end tests (Debian's `chromium` driven by playwright-core), and where screenshots
 * go. Without the browser the tests skip, unless HEARTH_REQUIRE_INTEROP=1 (CI), where a missing browser fails.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? "/usr/bin/chromium";

/** Screenshots and other artifacts of the end-to-end tests (gitignored). */
export const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts");

/** Why the browser tests cannot run here, or null if they can. Throws when CI requires them. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} not found (apt-get install chromium)`;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1") throw new Error(`${why}; HEARTH_REQUIRE_INTEROP=1 requires it`);
  return why;
}

/** A browser with a fresh profile; `close()` removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(opts: { ignoreHttpsErrors?: boolean } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "hearth-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: opts.ignoreHttpsErrors ?? false,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The path for a screenshot named `name` (creates the directory). */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
