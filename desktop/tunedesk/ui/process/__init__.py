"""Worker processes seen from the GUI: the QProcess wrapper (worker_process), the follower of a detached
run's folder (run_follower) and how a worker ended (outcome)."""
