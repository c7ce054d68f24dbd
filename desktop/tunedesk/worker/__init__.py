"""The subprocess that does the heavy work (training, export, the hardware probe). No Qt.

`python -m tunedesk.worker COMMAND ...` writes protocol events (tunedesk.core.protocol) to stdout, one JSON
object per line, and logs to stderr and the run folder.
"""
