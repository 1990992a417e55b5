/**
 * A bug that escapes its handler never ends the server: a thrown error in a stream callback ends that connection
 * only; an unhandled rejection or a stray uncaught exception in `hearth start` is logged and the server keeps
 * serving; only a run of uncaught exceptions is fatal, and then the server stops gracefully and exits with 1.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, RawConnection } from "../helpers/client.ts";
import { startTestServer } from "../helpers/server.ts";

const repo = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "hearth-guards-"));
const configFile = join(tmp, "hearth.toml");
writeFileSync(configFile, "");
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Started {
  child: ChildProcessWithoutNullStreams;
  port: number;
  exited: Promise<number | null>;
  output(): string;
}

/** `hearth start` on free ports with the bug-injecting preload; resolves once it listens. */
async function start(name: string, env: Record<string, string>): Promise<Started> {
  const args = ["--import", "tsx", "--import", "./test/integration/process-guards.preload.ts", "src/cli/main.ts"];
  args.push("start", "--data-dir", join(tmp, name), "--domain", "localhost", "--log-format", "json");
  args.push("--c2s-port", "0", "--c2s-tls-port", "-1", "--http-port", "-1", "--http-tls-port", "-1");
  args.push("--component-port", "-1");
  const child = spawn(process.execPath, args, {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "", HOME: tmp, HEARTH_CONFIG: configFile, ...env },
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner: ${out}`)), 20_000);
    const check = () => {
      const m = /listening: c2s on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        done(Number(m[1]));
      }
    };
    child.stdout.on("data", check);
    child.on("close", () => fail(new Error(`exited early: ${out}`)));
  });
  return { child, port, exited, output: () => out };
}

/** Opens a stream and returns the stream features text (the server is alive and serving). */
function features(port: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
      );
    });
    let data = "";
    socket.setEncoding("utf8").on("data", (d: string) => {
      data += d;
      if (data.includes("</stream:features>")) {
        socket.destroy();
        done(data);
      }
    });
    socket.on("error", fail);
  });
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("process guards", () => {
  it("ends only the connection when a stream callback throws (RFC 6120 §4.9.3.8)", async () => {
    const logs: string[] = [];
    const ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: { log: { level: "error", format: "json" } },
      logDestination: { write: (line: string) => logs.push(line) },
    });
    try {
      // A module's stream feature with a bug: it throws while the features are built, inside a socket callback.
      const host = ts.server.core.hosts.get("localhost");
      assert.ok(host);
      const broken = {
        stage: "pre-auth" as const,
        element: () => {
          throw new Error("a bug in a stream feature");
        },
      };
      host.streamFeatures.push(broken);
      // Direct TLS: pre-authentication features are only built on a confidential channel.
      const conn = await RawConnection.open(ts.tlsPort, { tls: true });
      conn.openStream("localhost");
      assert.equal(await conn.streamError(), "internal-server-error");
      await conn.disconnected;
      assert.ok(
        logs.some((l) => l.includes("stream failed") && l.includes("a bug in a stream feature")),
        logs.join(""),
      );
      host.streamFeatures.splice(host.streamFeatures.indexOf(broken), 1);
      // Everyone else is served as before.
      const alice = await connectClient(ts, "alice@localhost", "pw");
      const pong = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
      assert.equal(pong.attrs.type, "result");
      await alice.close();
    } finally {
      await ts.stop();
    }
  });

  it("hearth start logs an unhandled rejection and a stray exception, and keeps serving", async () => {
    const s = await start("survives", { HEARTH_TEST_REJECT: "2", HEARTH_TEST_THROW: "1" });
    try {
      await until(() => s.output().includes("injected exception 0"));
      assert.match(
        s.output(),
        /unhandled promise rejection.*injected rejection 1|injected rejection 1.*unhandled promise rejection/,
      );
      assert.match(s.output(), /uncaught exception.*the server keeps running/);
      assert.match(await features(s.port), /urn:ietf:params:xml:ns:xmpp-tls/);
      s.child.kill("SIGTERM");
      assert.equal(await s.exited, 0, s.output());
    } finally {
      s.child.kill("SIGKILL");
    }
  });

  it("hearth start stops gracefully and exits with 1 after repeated uncaught exceptions", async () => {
    const s = await start("fatal", { HEARTH_TEST_THROW: "5" });
    try {
      const code = await Promise.race([
        s.exited,
        new Promise<string>((r) => setTimeout(() => r("still running"), 15_000)),
      ]);
      assert.equal(code, 1, s.output());
      assert.match(s.output(), /repeated uncaught exceptions: shutting down/);
      // The graceful path ran: storage closed and the server said it stopped.
      assert.match(s.output(), /"msg":"stopped"/);
    } finally {
      s.child.kill("SIGKILL");
    }
  });
});
