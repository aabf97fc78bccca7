"""op25b's Mininet scenario runner: processes, traffic probes, checks and the results table."""
