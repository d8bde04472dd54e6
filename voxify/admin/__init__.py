"""Administration: runtime limits, users, usage statistics and the audit log."""
