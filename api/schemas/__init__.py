"""Request and response bodies of the HTTP API (never the table models themselves)."""
