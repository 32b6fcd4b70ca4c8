"""A third-party WebSocket client (Python's `websockets`) joining minibrowse's demo chat.

usage: chat_client.py ws://127.0.0.1:PORT/chat/ws NAME TEXT
Sends {"name": NAME, "text": TEXT}, then prints every message it receives as `name: text`
until its own comes back (10 s at most).
"""
import asyncio
import json
import sys

from websockets.asyncio.client import connect


async def main(url, name, text):
    async with connect(url, open_timeout=5, close_timeout=2) as socket:
        await socket.send(json.dumps({"name": name, "text": text}))
        async with asyncio.timeout(10):
            async for frame in socket:
                message = json.loads(frame)
                print(f"{message['name']}: {message['text']}", flush=True)
                if message["name"] == name and message["text"] == text:
                    return


asyncio.run(main(*sys.argv[1:4]))
