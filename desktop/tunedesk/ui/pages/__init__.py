"""The app's pages, one subpackage each: ``page.py`` holds the page (``Page(state: AppState, parent=None)``),
its other modules the page's parts, one widget each."""
