"""Privacy and data protection: per-department data scope, the audit log, retention of raw
text, deletion of an author's data and masking of personal fields (docs/privacy.md)."""
