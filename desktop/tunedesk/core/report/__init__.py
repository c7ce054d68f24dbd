"""Before/after reports of training runs (Qt-free, torch-free): what a run did to the task and to the model's
general ability, read back from its events, as data (build.py), words (verdict.py) and offline HTML with
inline SVG plots (html.py, svg.py)."""
