#!/usr/bin/python3
"""Interop check with slixmpp (Debian python3-slixmpp) for account management:

- register: creates an account with In-Band Registration (XEP-0077 plugin) before logging in, logs in with it,
  changes its password in-band;
- admin: logs in as an admin, lists the ad-hoc commands (XEP-0050 plugin) and runs the XEP-0133 add-user command
  with its data form.

Prints one JSON line with what happened; exits non-zero on failure.

usage: slixmpp_accounts.py register JID PASSWORD PORT NEW_PASSWORD
       slixmpp_accounts.py admin JID PASSWORD PORT NEW_ACCOUNT_JID NEW_ACCOUNT_PASSWORD
"""
import asyncio
import logging
import os
import sys

import slixmpp

from interop_common import run

ADMIN = "http://jabber.org/protocol/admin"


class Client(slixmpp.ClientXMPP):
    def __init__(self, mode, jid, password, args):
        super().__init__(jid, password)
        self.mode, self.args = mode, args
        self.result = {"mode": mode, "connected": False}
        self.done = asyncio.get_event_loop().create_future()
        for plugin in ("xep_0030", "xep_0004", "xep_0066", "xep_0077", "xep_0050"):
            self.register_plugin(plugin)
        if mode == "register":
            # Register before authenticating when the server offers the iq-register stream feature.
            self.add_event_handler("register", self.on_register)
            # COMPAT: slixmpp 1.8 holds back every stanza until the session starts, its own XEP-0077 plugin's
            # pre-authentication queries included; let them through while registering.
            self._always_send_everything = True
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_all_auth", lambda _: self.finish("auth failed"))

    async def on_register(self, form):
        # The form the server sent: slixmpp answers with the fields it asked for.
        self.result["instructions"] = form["register"]["instructions"]
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        try:
            await iq.send(timeout=10)
            self.result["registered"] = True
        except slixmpp.exceptions.IqError as e:
            self.finish("registration refused: %s" % e.iq["error"]["condition"])
        finally:
            self._always_send_everything = False

    async def start(self, _):
        self.result["connected"] = True
        self.result["jid"] = str(self.boundjid)
        try:
            if self.mode == "register":
                await self["xep_0077"].change_password(self.args[0], timeout=10)
                self.result["password_changed"] = True
            else:
                await self.admin()
        except slixmpp.exceptions.IqError as e:
            self.finish("iq error: %s" % e.iq["error"]["condition"])
            return
        except Exception as e:  # noqa: BLE001 - report anything to the test
            self.finish("%s: %s" % (type(e).__name__, e))
            return
        self.finish(None)

    async def admin(self):
        domain = self.boundjid.domain
        items = await self["xep_0050"].get_commands(domain, timeout=10)
        self.result["commands"] = sorted(i[1] for i in items["disco_items"]["items"])
        first = await self["xep_0050"].send_command(domain, ADMIN + "#add-user", timeout=10)
        command = first["command"]
        self.result["first_status"] = command["status"]
        form = command["form"]
        self.result["form_fields"] = sorted(form.get_fields().keys())
        new_jid, new_password = self.args
        answer = self["xep_0004"].make_form(ftype="submit")
        answer.add_field(var="FORM_TYPE", ftype="hidden", value=ADMIN)
        answer.add_field(var="accountjid", value=new_jid)
        answer.add_field(var="password", value=new_password)
        answer.add_field(var="password-verify", value=new_password)
        done = await self["xep_0050"].send_command(
            domain,
            ADMIN + "#add-user",
            action="complete",
            payload=answer,
            sessionid=command["sessionid"],
            timeout=10,
        )
        self.result["status"] = done["command"]["status"]
        self.result["notes"] = [text for _, text in done["command"]["notes"]]

    def finish(self, error):
        if not self.done.done():
            self.result["error"] = error
            self.done.set_result(True)


if os.environ.get("SLIXMPP_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
mode, jid, password, port = sys.argv[1:5]
run(lambda: Client(mode, jid, password, sys.argv[5:]), port, 20)
