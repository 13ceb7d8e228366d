"""After the chat: satisfaction ratings, kept promises and the complaint record (docs/aftercare.md)."""
