"""Monitoring live traffic: the request log and drift against the training reference."""
