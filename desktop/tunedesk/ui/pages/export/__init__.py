"""Export page: run and checkpoint, quantization, stage progress and the result."""
