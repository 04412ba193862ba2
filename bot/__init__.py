"""Hamgam (همگام): a bilingual Telegram bot for neighbourhood collective-impact initiatives."""
