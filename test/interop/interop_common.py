"""Shared tail of the slixmpp interop scripts: connect to the test server, wait, report.

Each script builds a slixmpp client that fills `result` (a dict) and resolves the future `done`; `run`
connects it to 127.0.0.1 (the test server uses a self-signed certificate), waits up to `timeout` seconds,
prints `result` as one JSON line and exits non-zero when it holds an error.
"""
import asyncio
import json
import ssl
import sys


def run(make_client, port, timeout):
    async def main():
        xmpp = make_client()
        xmpp.ssl_context.check_hostname = False
        xmpp.ssl_context.verify_mode = ssl.CERT_NONE
        xmpp.connect(("127.0.0.1", int(port)))
        try:
            await asyncio.wait_for(xmpp.done, timeout)
        except asyncio.TimeoutError:
            xmpp.result["error"] = "timeout"
        xmpp.disconnect()
        await asyncio.sleep(0.3)
        print(json.dumps(xmpp.result))
        sys.exit(0 if not xmpp.result.get("error") else 1)

    asyncio.get_event_loop().run_until_complete(main())
