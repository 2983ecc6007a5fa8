"""PII and secret detection and redaction."""
