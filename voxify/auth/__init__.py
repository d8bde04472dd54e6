"""Users, passwords (argon2), JWT access/refresh tokens and roles."""
