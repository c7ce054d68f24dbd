"""The frozen bundle's entry point (packaging/tunedesk.spec): the `tunedesk` command, which opens the window
when started without arguments and re-enters as the worker or the converter (core/launch.py)."""

import multiprocessing
import sys

from tunedesk.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a library that spawns Python children gets this executable
    sys.exit(main())
