"""Which process runs the clock and the outbox sender.

One process on SQLite: always that one. Several replicas on PostgreSQL: the one holding a
PostgreSQL advisory lock, on a connection of its own. If that replica dies, its connection
closes, the lock is free, and the next replica to try takes it (each tries every second).
Everything the clock does is keyed in the database, so work due during the hand-over happens
once; one sender paces Telegram's limits for all replicas together.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK_KEY = 0x48616D67616D  # "Hamgam"
log = logging.getLogger(__name__)


class Leadership:
    def __init__(self, engine: AsyncEngine, shared: bool) -> None:
        self.engine = engine
        self.shared = shared  # several replicas share the database
        self.held = not shared
        self._connection: AsyncConnection | None = None

    async def renew(self) -> bool:
        """Takes the lead if it is free, or checks that it is still held."""
        if not self.shared:
            return True
        try:
            if self._connection is None:
                connection = await self.engine.connect()
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                taken = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
                if taken:
                    self._connection = connection
                    log.info("This replica now runs the clock and the sender")
                else:
                    await connection.close()
            else:
                await self._connection.execute(text("SELECT 1"))
        except Exception as error:  # whatever the driver raises: the lock went with the link
            log.warning("Lost the database connection that held the lead: %s", error)
            await self.release()
        self.held = self._connection is not None
        return self.held

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        self.held = not self.shared
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken; closing it is all that was left to do
                log.debug("closing a broken leadership connection failed", exc_info=True)
