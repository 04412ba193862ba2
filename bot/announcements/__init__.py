"""Progress announcements: staff broadcast news and early wins to an audience, now or later."""
