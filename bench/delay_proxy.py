#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that adds a fixed one-way delay in each direction (bench/run.sh uses
it where the kernel has no `netem` qdisc, as on the machine BENCHMARKS.md was measured on).

Usage: delay_proxy.py ONE_WAY_MS LISTEN_PORT:TARGET_PORT [...]   (prints "ready" when listening)

The model, with d = ONE_WAY_MS and RTT = 2d, is that of a link with that delay:
- the client's connect() returns at once (the kernel answers), so the TCP handshake is emulated
  instead: the proxy connects to the server only after 3d (SYN, SYN-ACK, ACK), and nothing of the
  client's reaches the server before then. A server that speaks first (SMTP, IMAP greeting) is
  heard by the client at 4d = 2 RTT, and a client that speaks first (TLS) reaches the server at 3d,
  both as over a real link.
- every chunk read in either direction is written d later, in order.
- TCP_NODELAY on every socket, so Nagle adds nothing; the bandwidth is unlimited.
Not modelled: packet loss, TCP slow start, and ACK timing; for request/response protocols of a
few kilobytes on a fresh connection that changes nothing but the connect() time itself.
"""

import asyncio
import socket
import sys


def reader_task(reader, queue, delay, not_before):
    """Reads chunks as they come and queues each with the time it may be written."""
    loop = asyncio.get_running_loop()

    async def read():
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((max(loop.time() + delay, not_before), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            await queue.put((loop.time(), b""))

    return asyncio.ensure_future(read())


async def writer_loop(writer, queue):
    """Writes the queued chunks, each at its time, in order; an empty chunk ends the direction."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            at, data = await queue.get()
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def serve(listen, target, delay):
    async def handle(c_reader, c_writer):
        loop = asyncio.get_running_loop()
        nodelay(c_writer)
        start = loop.time()
        # The client's bytes are read from the start (its connect() returned at once) but reach
        # the server no sooner than the emulated handshake allows.
        up = asyncio.Queue()
        up_reader = reader_task(c_reader, up, delay, start + 3 * delay)
        await asyncio.sleep(3 * delay)  # the TCP handshake over the link
        try:
            s_reader, s_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            up_reader.cancel()
            c_writer.close()
            return
        nodelay(s_writer)
        down = asyncio.Queue()
        down_reader = reader_task(s_reader, down, delay, 0.0)
        await asyncio.gather(writer_loop(s_writer, up), writer_loop(c_writer, down), up_reader, down_reader)
        for w in (c_writer, s_writer):
            w.close()

    return await asyncio.start_server(handle, "127.0.0.1", listen, backlog=1024)


async def main(argv):
    delay = float(argv[1]) / 1000.0
    servers = []
    for spec in argv[2:]:
        listen, target = (int(x) for x in spec.split(":"))
        servers.append(await serve(listen, target, delay))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv))
    except KeyboardInterrupt:
        pass
