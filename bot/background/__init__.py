"""Long staff work (exports, reports) as background jobs: queued in the database, run in a
child process on the leader, delivered through the outbox."""
