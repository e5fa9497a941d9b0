"""The promotion gate: checks with thresholds as data, and the evidence record of every decision."""
