"""One migration script per revision: ``0001_segments.py``, ``0002_...``."""
