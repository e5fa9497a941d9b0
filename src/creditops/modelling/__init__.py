"""Modelling: estimators, metrics and plots. Pure: no files, no tracking."""
