"""Hamgam's Telegram face: the aiogram wiring (dispatcher, middlewares, storage, runners).

aiogram is confined to this package and to handlers/; the services in bot/ never import it.
"""
