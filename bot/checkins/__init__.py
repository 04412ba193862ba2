"""Check-ins: scheduled rounds of short questions to the members of a working group."""
