"""A demo scenario that yuqing generates itself (no external data needed)."""
