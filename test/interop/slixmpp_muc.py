#!/usr/bin/python3
"""Interop check of Hearth's MUC service with slixmpp's xep_0045 plugin (Debian python3-slixmpp). slixmpp creates a
room and configures it, gives a member affiliation, sets the subject, talks, invites the peer (mediated), waits for
the peer's answer in the room, kicks the peer, lists roles and destroys the room. Prints one JSON line with what
happened (the last line of output); exits non-zero on failure.

usage: slixmpp_muc.py JID PASSWORD PORT ROOM_JID NICK PEER_BARE_JID PEER_NICK
"""
import asyncio
import sys

import slixmpp
from slixmpp.exceptions import IqError

from interop_common import run


class MucClient(slixmpp.ClientXMPP):
    def __init__(self, jid, password, room, nick, peer, peer_nick):
        super().__init__(jid, password)
        self.room, self.nick, self.peer, self.peer_nick = room, nick, peer, peer_nick
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        self.result = {"steps": []}
        self.done = asyncio.get_event_loop().create_future()
        self.peer_said = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("muc::%s::message" % room, self.on_message)

    def step(self, name, **info):
        self.result["steps"].append(name)
        self.result.update(info)

    def on_message(self, msg):
        if msg["mucnick"] == self.peer_nick and msg["body"] and not self.peer_said.done():
            self.peer_said.set_result(msg["body"])

    async def start(self, _):
        try:
            await self.scenario()
        except Exception as e:  # noqa: BLE001 - report whatever broke
            self.result["error"] = "%s: %s" % (type(e).__name__, e)
        if not self.done.done():
            self.done.set_result(True)

    async def scenario(self):
        muc = self.plugin["xep_0045"]
        self.send_presence()
        info = await self.plugin["xep_0030"].get_info(jid=self.room.split("@")[1])
        self.step("disco", service_is_muc="http://jabber.org/protocol/muc" in info["disco_info"]["features"])

        pres, subject, occupants, history = await muc.join_muc_wait(self.room, self.nick, maxstanzas=10, timeout=10)
        self.step("joined", created=201 in pres["muc"]["status_codes"], affiliation=pres["muc"]["affiliation"])

        form = await muc.get_room_config(self.room)
        fields = form.get_fields()
        self.step("got_config", config_fields=len(fields))
        form["type"] = "submit"
        form.set_values({"muc#roomconfig_roomname": "Interop", "muc#roomconfig_persistentroom": True})
        await muc.set_room_config(self.room, form)
        self.step("configured")

        await muc.set_affiliation(self.room, "member", jid=self.peer)
        members = await muc.get_affiliation_list(self.room, "member")
        self.step("members", members=[str(j) for j in members])

        muc.set_subject(self.room, "Interop subject")
        self.send_message(mto=self.room, mbody="hello from slixmpp", mtype="groupchat")
        muc.invite(self.room, self.peer, reason="come in")
        self.step("invited")

        said = await asyncio.wait_for(self.peer_said, 15)
        self.step("peer_spoke", peer_said=said, roster=sorted(muc.get_roster(self.room)))

        participants = await muc.get_roles_list(self.room, "participant")
        self.step("roles", participants=participants)
        await muc.set_role(self.room, self.peer_nick, "none", reason="interop kick")
        self.step("kicked")

        try:
            await muc.get_affiliation_list(self.room, "bogus-not-an-affiliation")
        except (IqError, ValueError) as e:
            cond = e.iq["error"]["condition"] if isinstance(e, IqError) else "client-refused"
            self.step("bad_request", bad_request=cond)

        await muc.destroy(self.room, reason="interop done")
        self.step("destroyed")


jid, password, port, room, nick, peer, peer_nick = sys.argv[1:8]
run(lambda: MucClient(jid, password, room, nick, peer, peer_nick), port, 40)
