"""Training settings: the Preset record, the rules and selection that size it, its memory estimate."""
