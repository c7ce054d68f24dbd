"""Everything that is not GUI. Nothing in this package may import Qt (tests/unit/test_no_qt.py proves it)."""
