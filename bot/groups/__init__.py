"""Groups: the steering committee and the working groups, their members, invites and chats."""
