"""The one way out: every message that is not a direct reply is a row of the outbox, sent by
one worker within Telegram's limits and recorded with its outcome."""
