"""The machine: what it has (info), how it is measured (probe, cpu, devices)."""
