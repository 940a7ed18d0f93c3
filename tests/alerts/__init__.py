"""Tests of the monitoring rules and alerts."""
