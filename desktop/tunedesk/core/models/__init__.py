"""Base models: where one is (source), what it is (info), its ready-to-train copy (cache), exportability."""
