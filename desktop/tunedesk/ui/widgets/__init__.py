"""Shared widgets of the app's pages: cards, help rows, banners, the log view and the run panels."""
