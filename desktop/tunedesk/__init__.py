"""TuneDesk: fine-tune a small language model on your own machine, privately and offline."""

__version__ = "0.1.0"
