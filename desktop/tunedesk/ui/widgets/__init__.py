"""Widgets more than one page uses: card, help label, page title, metric tile, read-only table, error banner,
training curves."""
