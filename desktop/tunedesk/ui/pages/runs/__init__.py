"""Runs page: the table of training runs and the selected run's curves."""
