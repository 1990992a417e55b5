#!/usr/bin/python3
"""Interop check of message history and blocking with slixmpp's own plugins (Debian python3-slixmpp):
XEP-0030 account features, XEP-0313 query form, paging forwards and backwards (XEP-0059 via the plugin's
iterator), the 'with' filter, XEP-0359 stanza-id on a live message and the same id in the archive, and XEP-0191
blocklist get/block/push/unblock. Prints one JSON line with what it saw; exits non-zero on failure.

usage: slixmpp_mam.py JID PASSWORD PORT PEER_JID BLOCK_JID
"""
import asyncio
import sys

import slixmpp
from slixmpp import JID

from interop_common import run


class History(slixmpp.ClientXMPP):
    def __init__(self, jid, password, peer, block):
        super().__init__(jid, password)
        self.peer, self.block = peer, block
        for plugin in ("xep_0030", "xep_0059", "xep_0313", "xep_0359", "xep_0191"):
            self.register_plugin(plugin)
        self.result = {"connected": False}
        self.done = asyncio.get_event_loop().create_future()
        self.live = asyncio.get_event_loop().create_future()
        self.pushed = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("blocked", lambda iq: self.pushed.done() or self.pushed.set_result(iq))
        self.add_event_handler("failed_all_auth", lambda _: self.finish("auth failed"))

    def on_message(self, msg):
        if msg["body"] == "live" and not self.live.done():
            self.live.set_result(msg)

    @staticmethod
    def archived(msg):
        """Body, archive id and whether a delay stamp came with one MAM result."""
        fwd = msg["mam_result"]["forwarded"]
        return {
            "body": fwd["stanza"]["body"],
            "id": msg["mam_result"]["id"],
            "stamped": bool(fwd["delay"]["stamp"]),
        }

    async def start(self, _):
        try:
            await self.run()
            self.finish(None)
        except Exception as e:  # reported in the JSON line
            self.finish(f"{type(e).__name__}: {e}")

    async def run(self):
        me = self.boundjid.bare
        mam = self.plugin["xep_0313"]
        self.result["connected"] = True
        self.send_presence()

        info = await self.plugin["xep_0030"].get_info(jid=me)
        self.result["features"] = sorted(info["disco_info"]["features"])

        form = await mam.get_fields(jid=me)
        self.result["form_fields"] = list(form.get_fields().keys())

        self.result["forward"] = [self.archived(m) async for m in mam.iterate(jid=me, rsm={"max": 3})]
        self.result["backward"] = [
            self.archived(m) async for m in mam.iterate(jid=me, reverse=True, rsm={"max": 3}, total=3)
        ]
        with_peer = await mam.retrieve(jid=me, with_jid=JID(self.peer))
        self.result["with_peer"] = [self.archived(m)["body"] for m in with_peer["mam"]["results"]]
        self.result["with_peer_complete"] = with_peer["mam_fin"].xml.attrib.get("complete")

        # A live message: its stanza-id is the id the archive gives it.
        self.send_message(mto=self.peer, mbody="ping-from-slix", mtype="chat")
        live = await asyncio.wait_for(self.live, 10)
        self.result["live_stanza_id"] = {"id": live["stanza_id"]["id"], "by": str(live["stanza_id"]["by"])}
        newest = [self.archived(m) async for m in mam.iterate(jid=me, reverse=True, rsm={"max": 1}, total=1)]
        self.result["newest"] = newest

        blocking = self.plugin["xep_0191"]
        before = await blocking.get_blocked()
        self.result["blocked_before"] = sorted(str(j) for j in before["blocklist"]["items"])
        await blocking.block(JID(self.block))
        push = await asyncio.wait_for(self.pushed, 10)
        self.result["block_push"] = sorted(str(j) for j in push["block"]["items"])
        after = await blocking.get_blocked()
        self.result["blocked_after"] = sorted(str(j) for j in after["blocklist"]["items"])
        await blocking.unblock(JID(self.block))
        final = await blocking.get_blocked()
        self.result["blocked_final"] = sorted(str(j) for j in final["blocklist"]["items"])

    def finish(self, error):
        if not self.done.done():
            self.result["error"] = error
            self.done.set_result(True)


jid, password, port, peer, block = sys.argv[1:6]
run(lambda: History(jid, password, peer, block), port, 30)
