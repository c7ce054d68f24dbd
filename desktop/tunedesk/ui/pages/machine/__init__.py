"""Machine & model page: the hardware card and the list of base models."""
