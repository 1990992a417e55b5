#!/usr/bin/python3
"""Interop check with slixmpp (Debian python3-slixmpp) for the mobile features: stream management (XEP-0198)
with resumption, message carbons (XEP-0280) and client state indication (XEP-0352).

The script prints one JSON object per line for each thing that happens, so that the test driving it can react:
  {"event": "ready", "jid": ..., "sm_id": ..., "csi": true}   after login, SM enabled, carbons on, presence sent
  {"event": "message" | "carbon_received" | "carbon_sent", "body": ...}
  {"event": "aborted"}       the TCP connection was killed without closing the stream
  {"event": "resumed"}       the session was resumed on a new connection
  {"event": "done", "error": null | "..."}
Commands are signals: SIGUSR1 kills the connection (then reconnects after 1.5 s and resumes), SIGUSR2 quits.

usage: slixmpp_mobile.py JID PASSWORD PORT
"""
import asyncio
import json
import signal
import ssl
import sys

import slixmpp


def emit(**fields):
    print(json.dumps(fields), flush=True)


class Mobile(slixmpp.ClientXMPP):
    def __init__(self, jid, password, port):
        super().__init__(jid, password)
        self.port = port
        self.done = asyncio.get_event_loop().create_future()
        self.csi = False
        for plugin in ("xep_0198", "xep_0280", "xep_0352"):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("session_resumed", lambda _: emit(event="resumed"))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("carbon_received", lambda m: emit(event="carbon_received", body=m["carbon_received"]["body"]))
        self.add_event_handler("carbon_sent", lambda m: emit(event="carbon_sent", body=m["carbon_sent"]["body"]))
        self.add_event_handler("failed_all_auth", lambda _: self.finish("auth failed"))
        self.add_event_handler("sm_failed", lambda _: self.finish("stream management failed"))

    async def start(self, _):
        await self.plugin["xep_0280"].enable()
        self.send_presence()
        # The CSI feature is processed after binding (plugin order): wait for it briefly.
        for _ in range(20):
            if self.plugin["xep_0352"].enabled:
                break
            await asyncio.sleep(0.1)
        self.csi = self.plugin["xep_0352"].enabled
        self.plugin["xep_0352"].send_inactive()
        emit(event="ready", jid=str(self.boundjid), sm_id=self.plugin["xep_0198"].sm_id, csi=self.csi)

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            emit(event="message", body=msg["body"], delayed=bool(msg["delay"]["stamp"]))

    async def abort_and_resume(self):
        # Like a phone losing its network: no </stream:stream>, the server keeps the session.
        self.abort()
        emit(event="aborted")
        await asyncio.sleep(1.5)
        self.connect(("127.0.0.1", self.port))

    def finish(self, error):
        if not self.done.done():
            self.done.set_result(error)


async def main():
    jid, password, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    xmpp = Mobile(jid, password, port)
    # The test server uses a self-signed certificate.
    xmpp.ssl_context.check_hostname = False
    xmpp.ssl_context.verify_mode = ssl.CERT_NONE
    xmpp.connect(("127.0.0.1", port))
    loop = asyncio.get_event_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(xmpp.abort_and_resume()))
    loop.add_signal_handler(signal.SIGUSR2, lambda: xmpp.finish(None))
    try:
        error = await asyncio.wait_for(xmpp.done, 30)
    except asyncio.TimeoutError:
        error = "timeout"
    xmpp.disconnect()
    await asyncio.sleep(0.3)
    emit(event="done", error=error)
    sys.exit(0 if error is None else 1)


asyncio.get_event_loop().run_until_complete(main())
