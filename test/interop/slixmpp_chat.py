#!/usr/bin/python3
"""Interop check with slixmpp (Debian python3-slixmpp): log in over STARTTLS with SCRAM, send a message
to a peer, wait for a reply. Prints one JSON line with what happened; exits non-zero on failure.

usage: slixmpp_chat.py JID PASSWORD PORT PEER_JID BODY [EXPECT_BODY]
"""
import asyncio
import sys

import slixmpp

from interop_common import run


class Chat(slixmpp.ClientXMPP):
    def __init__(self, jid, password, peer, body, expect):
        super().__init__(jid, password)
        self.peer, self.body, self.expect = peer, body, expect
        self.result = {"connected": False, "mechanism": None, "sent": False, "received": None}
        self.done = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_all_auth", lambda _: self.finish("auth failed"))
        self.add_event_handler("auth_success", self.on_auth)

    def on_auth(self, _):
        self.result["mechanism"] = getattr(self.plugin["feature_mechanisms"], "mech", None) and \
            self.plugin["feature_mechanisms"].mech.name

    async def start(self, _):
        self.result["connected"] = True
        self.result["jid"] = str(self.boundjid)
        self.send_presence()
        await self.get_roster()
        self.send_message(mto=self.peer, mbody=self.body, mtype="chat")
        self.result["sent"] = True
        if not self.expect:
            self.finish(None)

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.result["received"] = msg["body"]
            if self.expect and msg["body"] == self.expect:
                self.finish(None)

    def finish(self, error):
        if not self.done.done():
            self.result["error"] = error
            self.done.set_result(True)


jid, password, port, peer, body = sys.argv[1:6]
expect = sys.argv[6] if len(sys.argv) > 6 else None
run(lambda: Chat(jid, password, peer, body, expect), port, 20)
