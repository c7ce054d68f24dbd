"""Data page: the dataset, its preview, quality report and validation split."""
