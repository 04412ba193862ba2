"""Hamgam's Telegram face: the aiogram wiring (dispatcher, middlewares, storage, runners).

aiogram is confined to this package and to handlers/; the services in bot/ never import it.
"""

from bot.telegram.lazy_types import import_aiogram

import_aiogram()  # before anything in this package imports aiogram
