"""Stores: one contract, several backends, chosen by URL."""
