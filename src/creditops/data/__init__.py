"""Data: the schema, readers and writers, checks and the synthesizer."""
