"""Foundations every layer may use: clocks, rate windows, names, emails, secrets."""
