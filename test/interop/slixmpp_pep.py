#!/usr/bin/python3
"""Interop check of personal data with slixmpp's own plugins (Debian python3-slixmpp): XEP-0030 account identity
and features, XEP-0115 caps with +notify interests (XEP-0163), the last published item on login and a live
notification (XEP-0172 user nick), a XEP-0084 avatar that the server copies into the vCard (XEP-0398, read back
with XEP-0054), XEP-0048 bookmarks in private storage (XEP-0049) that the server turns into XEP-0402 items, and
XEP-0223 private PEP storage. Prints one JSON line with what it saw; exits non-zero on failure.

usage: slixmpp_pep.py JID PASSWORD PORT PEER_JID
"""
import asyncio
import base64
import sys

import slixmpp
from slixmpp import JID
from slixmpp.plugins.xep_0048.stanza import Bookmarks
from slixmpp.plugins.xep_0172.stanza import UserNick

from interop_common import run

AVATAR = b"\x89PNG\r\n\x1a\n slixmpp interop avatar"


class Personal(slixmpp.ClientXMPP):
    def __init__(self, jid, password, peer):
        super().__init__(jid, password)
        self.peer = peer
        for plugin in ("xep_0030", "xep_0060", "xep_0115", "xep_0163", "xep_0172", "xep_0084", "xep_0054",
                       "xep_0049", "xep_0048", "xep_0223"):
            self.register_plugin(plugin)
        self.result = {"connected": False, "nicks": []}
        self.done = asyncio.get_event_loop().create_future()
        self.nick_events = asyncio.Queue()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("user_nick_publish", self.on_nick)
        self.add_event_handler("failed_all_auth", lambda _: self.finish("auth failed"))

    def on_nick(self, msg):
        item = msg["pubsub_event"]["items"]["item"]
        self.nick_events.put_nowait({"from": str(msg["from"]), "nick": item["nick"]["nick"]})

    async def start(self, _):
        try:
            await self.run()
            self.finish(None)
        except Exception as e:  # reported in the JSON line
            self.finish(f"{type(e).__name__}: {e}")

    async def next_nick(self):
        event = await asyncio.wait_for(self.nick_events.get(), 10)
        self.result["nicks"].append(event)
        return event

    async def run(self):
        me = self.boundjid.bare
        self.result["connected"] = True
        # Available presence with caps that include http://jabber.org/protocol/nick+notify (xep_0172 registers it).
        self.send_presence()

        info = await self.plugin["xep_0030"].get_info(jid=me)
        self.result["identities"] = sorted(f"{i[0]}/{i[1]}" for i in info["disco_info"]["identities"])
        self.result["features"] = sorted(info["disco_info"]["features"])

        # The peer published a nick before we came online: the server sends us the last one.
        await self.next_nick()
        # Now tell the peer to publish another one, live.
        self.send_message(mto=self.peer, mbody="ready", mtype="chat")
        await self.next_nick()

        # XEP-0084 avatar: data, then metadata; the server copies it into the vCard (XEP-0398).
        avatar_id = self.plugin["xep_0084"].generate_id(AVATAR)
        await self.plugin["xep_0084"].publish_avatar(AVATAR)
        await self.plugin["xep_0084"].publish_avatar_metadata(
            {"id": avatar_id, "type": "image/png", "bytes": len(AVATAR)})
        vcard = await self.plugin["xep_0054"].get_vcard(me)
        binval = vcard["vcard_temp"]["PHOTO"]["BINVAL"]
        self.result["avatar_id"] = avatar_id
        self.result["vcard_photo_matches"] = binval == AVATAR
        self.result["vcard_photo_b64"] = base64.b64encode(binval).decode() if binval else ""

        # XEP-0048 bookmarks through private storage (XEP-0049), read back.
        bookmarks = Bookmarks()
        bookmarks.add_conference("tea@conference.localhost", "slix", name="Tea party", autojoin=True)
        bookmarks.add_url("https://hearth.example/", name="Hearth")
        await self.plugin["xep_0048"].set_bookmarks(bookmarks, method="xep_0049")
        got = await self.plugin["xep_0048"].get_bookmarks(method="xep_0049")
        stored = got["private"]["bookmarks"]
        self.result["bookmarks"] = [
            {"jid": str(c["jid"]), "name": c["name"], "nick": c["nick"], "autojoin": c["autojoin"]}
            for c in stored["conferences"]
        ]
        self.result["bookmark_urls"] = [u["url"] for u in stored["urls"]]

        # XEP-0223: private data in PEP with the storage profile's publish-options.
        nick = UserNick()
        nick["nick"] = "kept private"
        await self.plugin["xep_0223"].store(nick, node="urn:example:slix:private", id="current")
        items = await self.plugin["xep_0223"].retrieve("urn:example:slix:private", id="current")
        self.result["private_pep"] = items["pubsub"]["items"]["item"]["payload"].text

    def finish(self, error):
        if not self.done.done():
            self.result["error"] = error
            self.done.set_result(True)


jid, password, port, peer = sys.argv[1:5]
run(lambda: Personal(jid, password, peer), port, 40)
