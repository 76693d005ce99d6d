"""The organisation report: many audits' JSON lines combined, without re-reading any history."""
