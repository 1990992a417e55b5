/**
 * The one stylesheet of the built-in pages, inlined (no CDN, no extra request) and allowed by its hash in the
 * Content-Security-Policy, so the pages run with no script and no inline style attributes at all.
 */
export const STYLE = `
:root {
  --bg: #f6f3ef; --card: #ffffff; --text: #2b2724; --muted: #6f6760; --line: #e7e1da;
  --accent: #d9480f; --accent-text: #ffffff; --accent-soft: #fff0e6; --ok: #2f9e44; --warn: #e67700; --bad: #c92a2a;
  --radius: 14px; --shadow: 0 1px 2px rgba(40, 30, 20, .06), 0 4px 16px rgba(40, 30, 20, .06);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #1c1917; --card: #262220; --text: #f1ece6; --muted: #a8a09a; --line: #3a3431;
    --accent: #ff7a3d; --accent-text: #1c1917; --accent-soft: #3a2a22;
    --shadow: 0 1px 2px rgba(0, 0, 0, .3), 0 4px 16px rgba(0, 0, 0, .25);
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
header.top { display: flex; align-items: center; gap: .6rem; padding: 1.1rem 1.5rem; max-width: 1040px; margin: 0 auto; }
header.top.narrow { max-width: 720px; }
header.top .brand { font-weight: 700; font-size: 1.15rem; letter-spacing: .01em; }
header.top .flame { width: 28px; height: 28px; }
header.top .spacer { flex: 1; }
header.top form { margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 0 1.5rem 3rem; }
main.narrow { max-width: 720px; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: .4rem 0 .4rem; }
h2 { font-size: 1.15rem; margin: 0 0 .8rem; }
h3 { font-size: 1rem; margin: 0 0 .3rem; }
p.lead { color: var(--muted); font-size: 1.08rem; margin: 0 0 1.6rem; }
.muted { color: var(--muted); }
.small { font-size: .88rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); padding: 1.3rem 1.4rem; margin-bottom: 1.2rem; }
.grid { display: grid; gap: 1.2rem; }
.grid.two { grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); }
.grid.four { grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 1rem; margin-bottom: 1.2rem; }
.step { display: flex; gap: .9rem; align-items: flex-start; }
.step .num {
  flex: none; width: 2rem; height: 2rem; border-radius: 50%; background: var(--accent-soft); color: var(--accent);
  display: grid; place-items: center; font-weight: 700;
}
.step .body { flex: 1; min-width: 0; }
.platforms { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: .8rem; margin-top: .8rem; }
.platform { border: 1px solid var(--line); border-radius: 10px; padding: .8rem .9rem; }
.platform.mine { border-color: var(--accent); background: var(--accent-soft); }
.platform h3 { display: flex; justify-content: space-between; align-items: baseline; }
.platform .tag { font-size: .72rem; font-weight: 600; color: var(--accent); text-transform: uppercase; letter-spacing: .05em; }
.platform ul { list-style: none; padding: 0; margin: .3rem 0 0; }
.platform li { margin: .15rem 0; }
.platform li span { color: var(--muted); font-size: .88rem; }
.qr { display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; }
.qr svg { width: 188px; height: 188px; background: #fff; border-radius: 10px; padding: 8px; border: 1px solid var(--line); flex: none; }
.qr .body { flex: 1; min-width: 220px; }
.button, button {
  display: inline-block; border: 0; border-radius: 10px; padding: .65rem 1.1rem; font: inherit; font-weight: 600;
  background: var(--accent); color: var(--accent-text); text-decoration: none; cursor: pointer;
}
.button.secondary, button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
button.link { background: none; color: var(--accent); padding: 0; font-weight: 500; }
button.danger { background: transparent; color: var(--bad); border: 1px solid var(--bad); padding: .3rem .7rem; font-size: .85rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
code.uri { display: block; overflow-wrap: anywhere; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: .5rem .7rem; margin: .6rem 0; }
form.stack { display: grid; grid-template-columns: minmax(0, 1fr); gap: .8rem; }
form.inline { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
td form { margin: 0; }
label { display: grid; gap: .25rem; font-weight: 600; font-size: .92rem; }
label .hint { font-weight: 400; color: var(--muted); font-size: .84rem; }
input, select {
  font: inherit; font-weight: 400; padding: .55rem .7rem; border: 1px solid var(--line); border-radius: 8px; background: var(--card); color: var(--text);
  min-width: 0;
}
form.stack input { width: 100%; }
input:focus, select:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
input[readonly] { background: var(--bg); }
.with-domain { display: flex; align-items: center; gap: .4rem; }
.with-domain input { flex: 1; }
.notice { border-radius: 10px; padding: .75rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.notice.error { color: var(--bad); border-color: var(--bad); background: color-mix(in srgb, var(--bad) 8%, transparent); }
.notice.ok { color: var(--ok); border-color: var(--ok); background: color-mix(in srgb, var(--ok) 8%, transparent); }
.stat .value { font-size: 1.8rem; font-weight: 700; line-height: 1.1; }
.stat .label { color: var(--muted); font-size: .85rem; }
.dot { display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; background: var(--muted); margin-right: .35rem; vertical-align: .05em; }
.dot.up { background: var(--ok); }
h1 .dot { width: .75rem; height: .75rem; margin-right: .7rem; vertical-align: .18em; }
h1 .dot.up { box-shadow: 0 0 0 5px color-mix(in srgb, var(--ok) 20%, transparent); }
.dot.stopping { background: var(--warn); } .dot.disabled { background: var(--line); }
table { width: 100%; border-collapse: collapse; font-size: .93rem; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
th, td { padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
.table-wrap { overflow-x: auto; }
.pill { display: inline-block; padding: .05rem .5rem; border-radius: 999px; background: var(--bg); border: 1px solid var(--line); font-size: .8rem; }
footer { text-align: center; color: var(--muted); font-size: .82rem; padding: 1rem 0 2rem; }
.login { max-width: 400px; margin: 8vh auto 0; }
@media (max-width: 560px) {
  header.top, main { padding-left: 1rem; padding-right: 1rem; }
  h1 { font-size: 1.6rem; }
  .card { padding: 1.1rem 1rem; }
  .step { flex-direction: column; gap: .5rem; }
  .qr svg { width: 100%; height: auto; max-width: 240px; }
}
`;
