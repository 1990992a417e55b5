import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ADMIN_IDLE_MS, ADMIN_MAX_MS, AdminSessions } from "../../src/web/admin-session.ts";
import { formatBytes, formatDuration } from "../../src/web/admin-view.ts";
import { platformOf } from "../../src/web/clients.ts";
import { FormTokens } from "../../src/web/forms.ts";
import { html, raw } from "../../src/web/html.ts";

describe("web: html templates", () => {
  it("escapes interpolated text, keeps built markup, and skips empty values", () => {
    const name = `<script>alert("x")</script> & 'quotes'`;
    assert.equal(
      html`<p title="${name}">${name}</p>`.value,
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p>`,
    );
    assert.equal(
      html`<ul>${["a<", "b"].map((x) => html`<li>${x}</li>`)}</ul>`.value,
      "<ul><li>a&lt;</li><li>b</li></ul>",
    );
    assert.equal(html`${null}${undefined}${false}${0}${raw("<br>")}`.value, "0<br>");
  });
});

describe("web: form tokens", () => {
  it("accept a token only for its purpose, unchanged and within its age", () => {
    const tokens = new FormTokens(60_000);
    const t = tokens.issue("invite:abc", 1_000_000);
    assert.ok(tokens.check("invite:abc", t, 1_000_000));
    assert.ok(tokens.check("invite:abc", t, 1_060_000));
    assert.ok(!tokens.check("invite:abc", t, 1_060_001), "expired");
    assert.ok(!tokens.check("invite:abc", t, 999_999), "from the future");
    assert.ok(!tokens.check("invite:xyz", t, 1_000_000), "other purpose");
    assert.ok(!tokens.check("invite:abc", t.replace(/^\d+/, "1000001"), 1_000_001), "changed time");
    assert.ok(!tokens.check("invite:abc", null));
    assert.ok(!tokens.check("invite:abc", "garbage"));
    // Another server process (another key) issued it.
    assert.ok(!new FormTokens(60_000).check("invite:abc", t, 1_000_000));
  });
});

describe("web: admin sessions", () => {
  it("end after idle time and after the maximum age, and can be deleted", () => {
    const sessions = new AdminSessions();
    const s = sessions.create("admin@example.org", 0);
    assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(s.csrf, s.id);
    assert.equal(sessions.get(s.id, ADMIN_IDLE_MS)?.jid, "admin@example.org");
    assert.equal(sessions.get(s.id, 2 * ADMIN_IDLE_MS + 1), undefined, "idle too long");
    let t = 0;
    const busy = sessions.create("admin@example.org", 0);
    while (t + ADMIN_IDLE_MS / 2 <= ADMIN_MAX_MS) {
      t += ADMIN_IDLE_MS / 2;
      assert.ok(sessions.get(busy.id, t), `active session alive at ${t}`);
    }
    assert.equal(sessions.get(busy.id, ADMIN_MAX_MS + 1), undefined, "too old, however active");
    const gone = sessions.create("a@b", 0);
    sessions.delete(gone.id);
    assert.equal(sessions.get(gone.id, 0), undefined);
    assert.equal(sessions.get(undefined), undefined);
  });
});

describe("web: formatting and platforms", () => {
  it("formats sizes and durations for people", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1536), "1.5 KB");
    assert.equal(formatBytes(200 * 1024 * 1024), "200 MB");
    assert.equal(formatDuration(42), "42s");
    assert.equal(formatDuration(3 * 3600 + 5 * 60), "3h 5m");
    assert.equal(formatDuration(2 * 86400 + 3600), "2d 1h");
  });

  it("guesses the platform from the User-Agent", () => {
    assert.equal(platformOf("Mozilla/5.0 (Linux; Android 14) Mobile"), "android");
    assert.equal(platformOf("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"), "ios");
    assert.equal(platformOf("Mozilla/5.0 (X11; Linux x86_64)"), "desktop");
    assert.equal(platformOf(undefined), "desktop");
  });
});
