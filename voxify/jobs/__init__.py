"""Background jobs: one table, one state machine, progress in the database."""
