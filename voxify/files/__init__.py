"""Stored audio files: rows in the database, bytes in the BlobStore."""
