"""The app's pages, one widget per module, each constructed as ``Page(state: AppState, parent=None)``."""
