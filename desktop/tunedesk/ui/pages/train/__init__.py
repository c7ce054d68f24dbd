"""Train page: the settings panel (preset form, memory estimate) and the live run monitor."""
