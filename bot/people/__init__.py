"""People: residents, members and staff, their language, roles and consent."""
