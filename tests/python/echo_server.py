"""A third-party WebSocket server (Python's `websockets`) for minibrowse's interop test.

Echoes every text message back, prefixed with "echo: ". Prints its port once listening.
"""
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(connection):
    async for message in connection:
        await connection.send("echo: " + message)


async def main():
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        # Bounded: the test kills it long before, but it never outlives a forgotten run.
        await asyncio.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30)


asyncio.run(main())
