"""Earshot's sentiment model and urgency ranking."""
