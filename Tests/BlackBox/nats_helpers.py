"""Helpers around nats-py."""


async def flushed(*connections) -> None:
    """Waits until everything queued on each nats-py connection has reached the server.

    nats-py 2.16's `flush()` writes its PING straight to the socket, ahead of commands still
    queued for its flusher task (a SUB can arrive after the PING). The first round trip lets the
    flusher run, so a second PING/PONG proves that the queued commands were processed.
    """
    for nc in connections:
        await nc.flush()
        await nc.flush()
